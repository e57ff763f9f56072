export { DEV_FAUCET, type FaucetPolicy, faucetEnvSchema, faucetPolicyFromEnv } from './faucet-policy';
export { type MintRequest, type MintResult, MintUseCase } from './mint.usecase';
