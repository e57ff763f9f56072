import { parseAccountId } from '../ledger/account-id';
import { runIdempotent } from '../ledger/idempotency';
import {
  checkIdempotencyKey,
  checkRefs,
  type JournalTransaction,
  type TransactionRefs,
} from '../ledger/journal';
import { fingerprints, planTransfer } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';

export interface TransferRequest {
  readonly from: string;
  readonly to: string;
  /** base units (> 0) */
  readonly amount: bigint;
  readonly refs?: Partial<Record<keyof TransactionRefs, unknown>>;
  readonly idempotencyKey?: string;
}

export interface TransferResult {
  readonly transaction: JournalTransaction;
  readonly replayed: boolean;
}

/**
 * Moves DCC between two accounts in one balanced transaction. The source must exist (ENOACCOUNT)
 * and cover the amount (ENOFUNDS); the target is opened if new (a fresh DCP address can be paid).
 */
export class TransferUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(req: TransferRequest): Promise<TransferResult> {
    const from = parseAccountId(req.from, 'source account');
    const to = parseAccountId(req.to, 'target account');
    const refs = checkRefs(req.refs);
    const key = req.idempotencyKey === undefined ? undefined : checkIdempotencyKey(req.idempotencyKey);
    const { store, clock, ids } = this.deps;
    return runIdempotent<TransferResult>(store, {
      key,
      fingerprint: fingerprints.transfer(from, to, req.amount),
      run: async (tx) => {
        const stamp = {
          txId: ids.next('tx'),
          at: new Date(clock.now()),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        };
        const transaction = await tx.append(planTransfer(stamp, from, to, req.amount, refs).tx);
        return { transaction, replayed: false };
      },
      replay: async (_tx, prior) => ({ transaction: prior, replayed: true }),
    });
  }
}
