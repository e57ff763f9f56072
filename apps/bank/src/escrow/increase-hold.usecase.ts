import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import { runIdempotent } from '../ledger/idempotency';
import { checkIdempotencyKey, type HoldId, type JournalTransaction } from '../ledger/journal';
import { fingerprints, planIncrease } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';

export interface IncreaseHoldResult {
  readonly hold: Hold;
  readonly transaction: JournalTransaction;
  readonly replayed: boolean;
}

/**
 * Tops up an open hold from its account (array jobs escrow per addSliceData, as the slice count grows).
 * ENOENT for an unknown hold, EJOBSTATE if it was released, ENOFUNDS if the account is short.
 */
export class IncreaseHoldUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(holdId: string, amount: bigint, idempotencyKey?: string): Promise<IncreaseHoldResult> {
    const id = holdId as HoldId;
    const key = idempotencyKey === undefined ? undefined : checkIdempotencyKey(idempotencyKey);
    const { store, clock, ids } = this.deps;
    return runIdempotent<IncreaseHoldResult>(store, {
      key,
      fingerprint: fingerprints.increase(id, amount),
      run: async (tx) => {
        const hold = await tx.lockHold(id);
        if (!hold) throw LedgerErrors.noHold(holdId);
        const stamp = {
          txId: ids.next('tx'),
          at: new Date(clock.now()),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        };
        const planned = planIncrease(stamp, hold, amount);
        const transaction = await tx.append(planned.tx);
        await tx.saveHold(planned.hold!, hold);
        return { hold: planned.hold!, transaction, replayed: false };
      },
      replay: async (tx, prior) => {
        const hold = await tx.lockHold(id);
        if (!hold) throw LedgerErrors.noHold(holdId);
        return { hold, transaction: prior, replayed: true };
      },
    });
  }
}
