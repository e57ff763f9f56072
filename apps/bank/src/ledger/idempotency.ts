import { DuplicateIdempotencyKey, LedgerErrors } from './errors';
import type { JournalTransaction } from './journal';
import type { LedgerStore, LedgerTx } from './store';

export interface IdempotentStep<T> {
  readonly key: string | undefined;
  /** canonical text of the request; a key reused with another fingerprint is EDUP */
  readonly fingerprint: string;
  run(tx: LedgerTx): Promise<T>;
  /** the result to give when the key was already committed */
  replay(tx: LedgerTx, prior: JournalTransaction): Promise<T>;
}

/**
 * Runs one ledger transaction at most once per idempotency key: a retry with the same key and
 * request gets the first result again (never a second movement); with another request, EDUP.
 * Two retries racing on PostgreSQL meet at the unique key: the loser retries once and replays.
 */
export async function runIdempotent<T>(store: LedgerStore, step: IdempotentStep<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.transaction(async (tx) => {
        if (step.key !== undefined) {
          const prior = await tx.findByIdempotencyKey(step.key);
          if (prior) {
            if (prior.fingerprint !== step.fingerprint) throw LedgerErrors.keyReused(step.key);
            return step.replay(tx, prior);
          }
        }
        return step.run(tx);
      });
    } catch (e) {
      if (e instanceof DuplicateIdempotencyKey && attempt < 2) continue;
      throw e;
    }
  }
}
