/** Whether the dev faucet may mint, and how much per request. */
export interface FaucetPolicy {
  /** false on a self-hosted bank: minting is refused with EPERM */
  readonly enabled: boolean;
  /** base units one mint may create at most */
  readonly maxPerMint: bigint;
}

/** 1000 DCC per mint, on: the emulator's default for local development. */
export const DEV_FAUCET: FaucetPolicy = { enabled: true, maxPerMint: 1_000n * 1_000_000_000n };
