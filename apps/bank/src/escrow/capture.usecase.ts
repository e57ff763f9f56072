import { parseAccountId } from '../ledger/account-id';
import { LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import { runIdempotent } from '../ledger/idempotency';
import { checkIdempotencyKey, checkRefs, type HoldId, type JournalTransaction } from '../ledger/journal';
import { type CaptureRequest, fingerprints, planCapture } from '../ledger/operations';
import type { LedgerDeps } from '../ledger/ports';
import type { LedgerTx } from '../ledger/store';

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

export interface CaptureOptions {
  /**
   * Captures arriving while a settlement batch is being written are written together in one
   * database transaction (one write per account and per hold), at most this many (default 256;
   * 1 writes each capture alone).
   */
  readonly maxBatch?: number;
}

interface Pending {
  readonly holdId: HoldId;
  readonly req: CaptureRequest;
  readonly key: string;
  readonly fingerprint: string;
  resolve(result: CaptureResult): void;
  reject(error: unknown): void;
}

type Outcome =
  | { readonly kind: 'new'; readonly planned: number; readonly hold: Hold }
  | { readonly kind: 'replay'; readonly tx: JournalTransaction }
  | { readonly kind: 'same-batch'; readonly planned: number }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * Settles accepted results: each capture is one balanced transaction from the hold to the worker's
 * payment address plus the commission. Idempotent per key (e.g. `<job>:<slice>`): a retried capture
 * never pays twice. ENOENT unknown hold, EJOBSTATE released hold, ENOFUNDS when the hold is short.
 * Under load, concurrent captures are grouped per tick into one database transaction; each caller
 * still gets its own result or error.
 */
/** A capture's request checked and normalised (accounts, refs, key), with its idempotency fingerprint. */
export function validateCapture(holdId: string, payment: CapturePayment, idempotencyKey: string) {
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
  const id = holdId as HoldId;
  return { holdId: id, req, key, fingerprint: fingerprints.capture(id, req) };
}

export class CaptureUseCase {
  private readonly maxBatch: number;
  /** Settlement batches written, and those that failed as a whole and were settled one by one. */
  readonly stats = { batches: 0, fallbacks: 0 };
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly deps: LedgerDeps,
    options: CaptureOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  execute(holdId: string, payment: CapturePayment, idempotencyKey: string): Promise<CaptureResult> {
    let pending: Omit<Pending, 'resolve' | 'reject'>;
    try {
      pending = validateCapture(holdId, payment, idempotencyKey);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<CaptureResult>((resolve, reject) => {
      this.queue.push({ ...pending, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.drain();
      }
    });
  }

  /** Writes queued captures batch after batch until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let every caller woken by the previous batch queue its next capture first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, this.maxBatch);
        if (batch.length === 1) await this.settleOne(batch[0]!);
        else await this.settleBatch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async settleOne(item: Pending): Promise<void> {
    const { store, clock, ids } = this.deps;
    try {
      const result = await runIdempotent<CaptureResult>(store, {
        key: item.key,
        fingerprint: item.fingerprint,
        run: async (tx) => {
          const hold = await tx.lockHold(item.holdId);
          if (!hold) throw LedgerErrors.noHold(item.holdId);
          const planned = planCapture(
            { txId: ids.next('tx'), at: new Date(clock.now()), idempotencyKey: item.key },
            hold,
            item.req,
          );
          const transaction = await tx.append(planned.tx);
          await tx.saveHold(planned.hold!, hold);
          return { hold: planned.hold!, transaction, replayed: false };
        },
        replay: async (tx, prior) => {
          const hold = await tx.lockHold(item.holdId);
          if (!hold) throw LedgerErrors.noHold(item.holdId);
          return { hold, transaction: prior, replayed: true };
        },
      });
      item.resolve(result);
    } catch (e) {
      item.reject(e);
    }
  }

  /**
   * One database transaction for the whole batch. Every capture is planned against the holds' state
   * as the batch goes (pure checks: a refusal touches nothing); then all are written at once. If the
   * write itself fails (a racing writer, a database error), each capture is retried on its own.
   */
  private async settleBatch(batch: Pending[]): Promise<void> {
    let results: Array<{ ok: CaptureResult } | { error: unknown }>;
    try {
      this.stats.batches++;
      results = await this.deps.store.transaction((tx) => this.writeBatch(tx, batch));
    } catch {
      this.stats.fallbacks++;
      for (const item of batch) await this.settleOne(item);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i]!;
      if ('ok' in r) item.resolve(r.ok);
      else item.reject(r.error);
    });
  }

  private async writeBatch(tx: LedgerTx, batch: Pending[]) {
    const { clock, ids } = this.deps;
    const originals = new Map<HoldId, Hold | null>();
    for (const id of [...new Set(batch.map((b) => b.holdId))].sort())
      originals.set(id, await tx.lockHold(id));
    const current = new Map(originals);
    const prior = new Map(
      (await tx.findByIdempotencyKeys(batch.map((b) => b.key))).map((t) => [t.idempotencyKey!, t]),
    );
    const plannedTxs: Parameters<LedgerTx['appendMany']>[0][number][] = [];
    const firstInBatch = new Map<string, { fingerprint: string; planned: number }>();
    const at = new Date(clock.now());

    const outcomes: Outcome[] = batch.map((item): Outcome => {
      const hold = current.get(item.holdId);
      if (!hold) return { kind: 'error', error: LedgerErrors.noHold(item.holdId) };
      const done = prior.get(item.key);
      if (done) {
        return done.fingerprint === item.fingerprint
          ? { kind: 'replay', tx: done }
          : { kind: 'error', error: LedgerErrors.keyReused(item.key) };
      }
      const earlier = firstInBatch.get(item.key);
      if (earlier) {
        return earlier.fingerprint === item.fingerprint
          ? { kind: 'same-batch', planned: earlier.planned }
          : { kind: 'error', error: LedgerErrors.keyReused(item.key) };
      }
      try {
        const planned = planCapture({ txId: ids.next('tx'), at, idempotencyKey: item.key }, hold, item.req);
        current.set(item.holdId, planned.hold!);
        plannedTxs.push(planned.tx);
        firstInBatch.set(item.key, { fingerprint: item.fingerprint, planned: plannedTxs.length - 1 });
        return { kind: 'new', planned: plannedTxs.length - 1, hold: planned.hold! };
      } catch (error) {
        return { kind: 'error', error };
      }
    });

    const committed = await tx.appendMany(plannedTxs);
    for (const [id, next] of current) {
      const before = originals.get(id);
      if (next && before && next !== before) await tx.saveHold(next, before);
    }
    return outcomes.map((o, i): { ok: CaptureResult } | { error: unknown } => {
      if (o.kind === 'error') return { error: o.error };
      if (o.kind === 'replay')
        return { ok: { hold: current.get(batch[i]!.holdId)!, transaction: o.tx, replayed: true } };
      const transaction = committed[o.planned]!;
      if (o.kind === 'new') return { ok: { hold: o.hold, transaction, replayed: false } };
      return { ok: { hold: current.get(batch[i]!.holdId)!, transaction, replayed: true } };
    });
  }
}
