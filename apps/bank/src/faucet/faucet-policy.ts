import { z } from 'zod';
import { dccAmountSchema } from '../ledger/amount';

/** Whether the dev faucet may mint, and how much per request. */
export interface FaucetPolicy {
  /** false on a self-hosted bank: minting is refused with EPERM */
  readonly enabled: boolean;
  /** base units one mint may create at most */
  readonly maxPerMint: bigint;
}

/** 1000 DCC per mint, on: the emulator's default for local development. */
export const DEV_FAUCET: FaucetPolicy = { enabled: true, maxPerMint: 1_000n * 1_000_000_000n };

/**
 * The faucet part of the bank's config (for the config owner to merge): `BANK_FAUCET=on|off`,
 * `BANK_FAUCET_MAX_DCC=<decimal DCC>`.
 */
export const faucetEnvSchema = z.object({
  BANK_FAUCET: z.enum(['on', 'off']).default('on'),
  BANK_FAUCET_MAX_DCC: dccAmountSchema({ field: 'BANK_FAUCET_MAX_DCC' }).default(DEV_FAUCET.maxPerMint),
});

export function faucetPolicyFromEnv(env: Record<string, string | undefined>): FaucetPolicy {
  const parsed = faucetEnvSchema.parse(env);
  return { enabled: parsed.BANK_FAUCET === 'on', maxPerMint: parsed.BANK_FAUCET_MAX_DCC };
}
