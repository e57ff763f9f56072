import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import type { HoldId, JournalTransaction } from '../ledger/journal';
import { planRelease } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';

export interface ReleaseResult {
  readonly hold: Hold;
  /** base units given back now (0n if the hold was already released or empty) */
  readonly released: bigint;
  /** absent when nothing moved */
  readonly transaction: JournalTransaction | null;
}

/**
 * On job completion or cancel: closes the hold and gives what is left back to the payment account.
 * Naturally idempotent: releasing a released hold moves nothing. ENOENT for an unknown hold.
 */
export class ReleaseUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(holdId: string): Promise<ReleaseResult> {
    const id = holdId as HoldId;
    const { store, clock, ids } = this.deps;
    return store.transaction(async (tx) => {
      const hold = await tx.lockHold(id);
      if (!hold) throw LedgerErrors.noHold(holdId);
      if (hold.status === 'released') return { hold, released: 0n, transaction: null };
      const planned = planRelease({ txId: ids.next('tx'), at: new Date(clock.now()) }, hold);
      const transaction = planned.tx ? await tx.append(planned.tx) : null;
      await tx.saveHold(planned.hold, hold);
      return { hold: planned.hold, released: planned.amount, transaction };
    });
  }
}
