import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { AccountId } from './account-id';
import { formatDcc } from './amount';
import type { HoldId } from './journal';

/**
 * Thrown by a store when an append collides with a committed transaction's idempotency key (two
 * retries racing); the use case retries once and then replays the winner's result.
 */
export class DuplicateIdempotencyKey extends Error {
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} is already in the journal`);
    this.name = 'DuplicateIdempotencyKey';
  }
}

/** The ledger's client-facing failures, one wording for every store. */
export const LedgerErrors = {
  noFunds(account: AccountId, balance: bigint, needed: bigint): DcpError {
    return new DcpError(
      DcpErrorCode.ENOFUNDS,
      `Insufficient funds in account ${account}: balance ${formatDcc(balance)} DCC, needs ${formatDcc(needed)} DCC`,
      { account, balance: formatDcc(balance), needed: formatDcc(needed) },
    );
  },
  noAccount(account: AccountId): DcpError {
    return new DcpError(DcpErrorCode.ENOACCOUNT, `bank account ${account} does not exist`, { account });
  },
  noHold(hold: string): DcpError {
    return new DcpError(DcpErrorCode.ENOENT, `no hold ${hold}`, { hold });
  },
  overflow(account: AccountId): DcpError {
    return new DcpError(
      DcpErrorCode.EINVAL,
      `the balance of ${account} would exceed what the ledger can hold`,
      {
        account,
      },
    );
  },
  keyReused(key: string): DcpError {
    return new DcpError(
      DcpErrorCode.EDUP,
      `idempotency key ${JSON.stringify(key)} was already used for a different request`,
      { idempotencyKey: key },
    );
  },
  holdChanged(hold: HoldId): DcpError {
    return new DcpError(DcpErrorCode.EINTERNAL, `hold ${hold} changed during the transaction`, { hold });
  },
};
