import { MAX_CAPTURE_BATCH } from '@dcp-emu/contracts';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import { type HoldId, type NewTransaction } from '../ledger/journal';
import { type CaptureRequest, planCapture } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';
import { SettlementConflict } from '../ledger/store';
import { type CapturePayment, validateCapture } from './capture.usecase';

/** One capture of a batch: as `capture@1` (its own hold, payment and idempotency key). */
export interface BatchCapture {
  readonly hold: string;
  readonly payment: CapturePayment;
  readonly key: string;
}

/** What became of one capture of a batch (same order as the request). */
export type BatchCaptureOutcome =
  /** paid now by the journal transaction `transaction` */
  | { readonly status: 'settled'; readonly transaction: string }
  /** this key was paid before (or earlier in the same batch): that transaction, nothing moved again */
  | { readonly status: 'replayed'; readonly transaction: string }
  /** refused (ENOFUNDS, EJOBSTATE, ENOENT, EDUP, EINVAL, …); nothing of it moved */
  | { readonly status: 'failed'; readonly error: DcpError };

export interface CaptureBatchResult {
  readonly outcomes: BatchCaptureOutcome[];
  /** the state after the batch of every hold it named that exists */
  readonly holds: Hold[];
}

/** The most captures one batch may carry (the escrow contract's bound). */
export { MAX_CAPTURE_BATCH };

interface Valid {
  readonly holdId: HoldId;
  readonly req: CaptureRequest;
  readonly key: string;
  readonly fingerprint: string;
}

const asDcpError = (e: unknown): DcpError =>
  e instanceof DcpError ? e : new DcpError(DcpErrorCode.EINVAL, e instanceof Error ? e.message : String(e));

/**
 * Settles many accepted results at once (the scheduler's settle loop): every capture is planned
 * against the holds and the journal as committed, in order (a hold pays the captures it covers, the
 * rest are ENOFUNDS), then everything that can be paid is written as ONE database transaction of
 * set-based statements (`LedgerStore.settle`). Each capture gets its own outcome: a refused one never
 * fails the others. Idempotent per key: a key already in the journal (or repeated in the batch) is
 * answered with its first transaction and never paid twice. If the ledger changed between planning
 * and writing (a racing capture or release), nothing was written and the batch is planned again.
 */
export class CaptureBatchUseCase {
  constructor(private readonly deps: LedgerDeps) {}

  async execute(items: readonly BatchCapture[]): Promise<CaptureBatchResult> {
    if (items.length > MAX_CAPTURE_BATCH)
      throw new DcpError(DcpErrorCode.EINVAL, `at most ${MAX_CAPTURE_BATCH} captures per batch`);
    const valid = items.map((item): Valid | DcpError => {
      try {
        return this.validate(item);
      } catch (e) {
        return asDcpError(e);
      }
    });
    const checked = valid.filter((v): v is Valid => !(v instanceof DcpError));
    const holdIds = [...new Set(checked.map((v) => v.holdId))];
    for (let attempt = 1; ; attempt++) {
      const read = await this.deps.store.readForSettlement(
        holdIds,
        checked.map((v) => v.key),
      );
      const plan = this.plan(valid, read.holds, read.prior);
      if (plan.transactions.length === 0) return { outcomes: plan.outcomes, holds: read.holds };
      try {
        const after = await this.deps.store.settle({
          transactions: plan.transactions,
          holdDebits: plan.holdDebits,
        });
        const changed = new Map(after.map((h) => [h.id, h]));
        return {
          outcomes: plan.outcomes,
          holds: read.holds.map((h) => changed.get(h.id) ?? h),
        };
      } catch (e) {
        // Someone captured or released meanwhile: plan against the new state (a race, rarely twice).
        if (!(e instanceof SettlementConflict) || attempt >= 20) throw e;
      }
    }
  }

  private validate(item: BatchCapture): Valid {
    return validateCapture(item.hold, item.payment, item.key);
  }

  /** Pure: each capture against the holds as they go (the batch's earlier captures included). */
  private plan(
    valid: readonly (Valid | DcpError)[],
    holds: readonly Hold[],
    prior: readonly { key: string; id: string; fingerprint: string }[],
  ) {
    const { clock, ids } = this.deps;
    const current = new Map(holds.map((h) => [h.id, h]));
    const committed = new Map(prior.map((p) => [p.key, p]));
    const inBatch = new Map<string, { fingerprint: string; id: string }>();
    const transactions: NewTransaction[] = [];
    const holdDebits = new Map<HoldId, bigint>();
    const at = new Date(clock.now());
    const outcomes = valid.map((v): BatchCaptureOutcome => {
      if (v instanceof DcpError) return { status: 'failed', error: v };
      const earlier = committed.get(v.key) ?? inBatch.get(v.key);
      if (earlier) {
        return earlier.fingerprint === v.fingerprint
          ? { status: 'replayed', transaction: earlier.id }
          : { status: 'failed', error: LedgerErrors.keyReused(v.key) };
      }
      const hold = current.get(v.holdId);
      if (!hold) return { status: 'failed', error: LedgerErrors.noHold(v.holdId) };
      try {
        const planned = planCapture({ txId: ids.next('tx'), at, idempotencyKey: v.key }, hold, v.req);
        const next = planned.hold!;
        current.set(hold.id, next);
        holdDebits.set(hold.id, (holdDebits.get(hold.id) ?? 0n) + (next.captured - hold.captured));
        transactions.push(planned.tx);
        inBatch.set(v.key, { fingerprint: v.fingerprint, id: planned.tx.id });
        return { status: 'settled', transaction: planned.tx.id };
      } catch (e) {
        return { status: 'failed', error: asDcpError(e) };
      }
    });
    return { outcomes, transactions, holdDebits };
  }
}
