import { parseAccountId } from '../ledger/account-id';
import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import { runIdempotent } from '../ledger/idempotency';
import { checkIdempotencyKey, checkRefs, type HoldId, type JournalTransaction } from '../ledger/journal';
import { fingerprints, planHold } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';

export interface HoldRequest {
  /** the payment account (a DCP address) */
  readonly account: string;
  /** base units to hold */
  readonly amount: bigint;
  readonly refs?: { readonly job?: string; readonly memo?: string };
  /** e.g. `job:<id>:escrow`; a retry with the same key returns the same hold */
  readonly idempotencyKey?: string;
}

export interface HoldResult {
  readonly hold: Hold;
  readonly transaction: JournalTransaction;
  readonly replayed: boolean;
}

/**
 * Escrow for the scheduler: moves `amount` from the payment account into a new hold.
 * ENOACCOUNT for an unknown account, ENOFUNDS when its balance does not cover the amount.
 */
export class HoldUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(req: HoldRequest): Promise<HoldResult> {
    const account = parseAccountId(req.account, 'payment account');
    const refs = checkRefs(req.refs);
    const key = req.idempotencyKey === undefined ? undefined : checkIdempotencyKey(req.idempotencyKey);
    const { store, clock, ids } = this.deps;
    return runIdempotent<HoldResult>(store, {
      key,
      fingerprint: fingerprints.hold(account, req.amount, refs),
      run: async (tx) => {
        const stamp = {
          txId: ids.next('tx'),
          at: new Date(clock.now()),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        };
        const planned = planHold(stamp, ids.next('hold') as HoldId, account, req.amount, refs);
        await tx.saveHold(planned.hold!, null);
        const transaction = await tx.append(planned.tx);
        return { hold: planned.hold!, transaction, replayed: false };
      },
      replay: async (tx, prior) => {
        const hold = prior.refs.hold ? await tx.lockHold(prior.refs.hold) : null;
        if (!hold) throw LedgerErrors.noHold(prior.refs.hold ?? '?');
        return { hold, transaction: prior, replayed: true };
      },
    });
  }
}
