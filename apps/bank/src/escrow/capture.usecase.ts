import { parseAccountId } from '../ledger/account-id';
import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import { runIdempotent } from '../ledger/idempotency';
import { checkIdempotencyKey, checkRefs, type HoldId, type JournalTransaction } from '../ledger/journal';
import { type CaptureRequest, fingerprints, planCapture } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';

export interface CapturePayment {
  /** the worker's payment address */
  readonly to: string;
  /** base units paid to `to` (> 0) */
  readonly amount: bigint;
  /** the scheduler's / compute group's cut, paid from the same hold */
  readonly commission?: { readonly to: string; readonly amount: bigint };
  readonly slice?: number;
  /** the worker's identity address or id, kept as a reference */
  readonly worker?: string;
}

export interface CaptureResult {
  readonly hold: Hold;
  readonly transaction: JournalTransaction;
  /** true when this key was captured before: nothing moved this time */
  readonly replayed: boolean;
}

/**
 * Settles one accepted result: one balanced transaction from the hold to the worker's payment
 * address plus the commission. Idempotent per key (e.g. `<job>:<slice>`): a retried capture never
 * pays twice. ENOENT unknown hold, EJOBSTATE released hold, ENOFUNDS when the hold is short.
 */
export class CaptureUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(holdId: string, payment: CapturePayment, idempotencyKey: string): Promise<CaptureResult> {
    const id = holdId as HoldId;
    const key = checkIdempotencyKey(idempotencyKey);
    const refs = checkRefs({ slice: payment.slice, worker: payment.worker });
    const req: CaptureRequest = {
      to: parseAccountId(payment.to, 'payment address'),
      amount: payment.amount,
      ...(payment.commission
        ? {
            commission: {
              to: parseAccountId(payment.commission.to, 'commission account'),
              amount: payment.commission.amount,
            },
          }
        : {}),
      ...refs,
    };
    const { store, clock, ids } = this.deps;
    return runIdempotent<CaptureResult>(store, {
      key,
      fingerprint: fingerprints.capture(id, req),
      run: async (tx) => {
        const hold = await tx.lockHold(id);
        if (!hold) throw LedgerErrors.noHold(holdId);
        const planned = planCapture(
          { txId: ids.next('tx'), at: clock.now(), idempotencyKey: key },
          hold,
          req,
        );
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
