export { DEV_FAUCET, type FaucetPolicy } from './faucet-policy';
export { type MintRequest, type MintResult, MintUseCase } from './mint.usecase';
