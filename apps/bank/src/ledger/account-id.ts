import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';

/**
 * Ledger accounts are keyed by DCP address (`0x` + 40 hex digits), stored lower-case so that the
 * EIP-55 checksummed and plain spellings of one address are one account. System accounts (the
 * issuance account the faucet mints from) use names no address can take, so no client can name them.
 */
export type AccountId = string & { readonly __accountId: unique symbol };

export type AccountKind = 'user' | 'system';

/** Minting debits this account: its balance is minus the total ever minted. */
export const ISSUANCE_ACCOUNT = 'system:issuance' as AccountId;

const SYSTEM_ACCOUNTS: ReadonlySet<string> = new Set([ISSUANCE_ACCOUNT]);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function isSystemAccount(id: string): boolean {
  return SYSTEM_ACCOUNTS.has(id);
}

export function accountKind(id: AccountId): AccountKind {
  return isSystemAccount(id) ? 'system' : 'user';
}

/** Parses a DCP address given by a client into its account id; EINVAL for anything else. */
export function parseAccountId(input: unknown, field = 'address'): AccountId {
  if (typeof input !== 'string' || !ADDRESS.test(input.trim())) {
    const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 64)) : typeof input;
    throw new DcpError(
      DcpErrorCode.EINVAL,
      `invalid ${field} ${shown}: expected a 0x-prefixed 40-hex-digit DCP address`,
      {
        field,
      },
    );
  }
  return input.trim().toLowerCase() as AccountId;
}
