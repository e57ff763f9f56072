import { createHash } from 'node:crypto';
import {
  DcpError,
  DcpErrorCode,
  formatDcc,
  type ClockTimer,
  type Identity,
  type Logger,
  parseDcc,
  UNITS_PER_DCC,
} from '@dcp-emu/protocol/node';
import type { EventRouter } from '../events/event-router';
import type { BankPort, CaptureBatchAnswer, CaptureRequest, SubmitAuthorization } from '../ports/bank.port';
import { type Clock, systemClock } from '../ports/clock';
import type { EscrowRecord, EscrowStore, PaymentRecord } from './escrow-store';

/** A job's escrow as the inspection API shows it. */
export interface EscrowView {
  paymentAccount: string;
  hold: string | null;
  perSlice: string;
  commissionRate: string;
  commissionTo: string;
  fundedSlices: number;
  /** waiting for funds since (ISO time), or null */
  shortSince: string | null;
  released: boolean;
  owed: string;
  paid: string;
}

/** What money costs on this scheduler. */
export interface EscrowTerms {
  /** DCC per slice that a market-value offer of 1 stands for (base units) */
  marketRate: bigint;
  /** the scheduler's commission on public jobs, a decimal rate such as "0.05" */
  commissionRate: string;
  /** how often unsettled payments, short jobs and ended holds are retried (ms) */
  settleMs: number;
  /** how long a submit waits for the bank's hold before it fails with ENOBANK (ms; default 10 s) */
  holdTimeoutMs?: number;
}

/** The offer of a job as submitted. */
export interface JobOffer {
  id: string;
  paymentAccount: string;
  absolutePayment: number;
  mvMultiplier: number;
  localExec: boolean;
}

/** A slice payment to write together with its accepted result. */
export interface PaymentWrite {
  payTo: string;
  amount: string;
  commissionTo: string;
  commission: string;
}

/** `rate × units`, rounded down to whole base units; the rate is a decimal string (≤ 9 places). */
export function applyRate(units: bigint, rate: string): bigint {
  return (units * parseDcc(rate, { sign: 'nonNegative', field: 'rate' })) / UNITS_PER_DCC;
}

/**
 * What a worker earns per slice of the job, in base units: the absolute offer, or the market-value
 * multiplier × the market rate. Offers arrive as JSON numbers; anything finer than a base unit is
 * dropped (never rounded up against the payer).
 */
export function slicePayment(
  job: Pick<JobOffer, 'absolutePayment' | 'mvMultiplier'>,
  marketRate: bigint,
): bigint {
  const fixed = (n: number) => parseDcc(Math.max(0, n).toFixed(9), { sign: 'nonNegative', field: 'offer' });
  if (job.absolutePayment > 0) return fixed(job.absolutePayment);
  return (marketRate * fixed(job.mvMultiplier)) / UNITS_PER_DCC;
}

/** Least time between two settle rounds while results keep arriving (ms). */
const SETTLE_GAP_MS = 200;

const isNoFunds = (e: unknown) => e instanceof DcpError && e.code === DcpErrorCode.ENOFUNDS;

/** Money for jobs, as the use cases see it (see `Escrow`; `NoEscrow` when no bank is configured). */
export interface JobMoney {
  readonly metered: boolean;
  open(job: JobOffer, slices: number, authorization: SubmitAuthorization): Promise<void>;
  setCommission(jobId: string, group: { owner: string; commissionRate: string } | undefined): Promise<void>;
  fund(jobId: string, total: number): Promise<void>;
  paymentFor(jobId: string, payTo: string): Promise<PaymentWrite | undefined>;
  payments(jobId: string): Promise<PaymentRecord[]>;
  view(jobId: string): Promise<EscrowView | undefined>;
  /** the job waits for funds: its slices are not handed out */
  paused(jobId: string): boolean;
  kick(): void;
  start(): void;
  /** stop settling (and forget cached escrows: the state may be restored underneath) */
  stop(): Promise<void>;
  /** stop and close the bank connection (shutdown) */
  close(): Promise<void>;
}

/** An unmetered scheduler: no money is held, owed or paid; workers are told they earned 0. */
export class NoEscrow implements JobMoney {
  readonly metered = false;
  async open(): Promise<void> {}
  async setCommission(): Promise<void> {}
  async fund(): Promise<void> {}
  async paymentFor(): Promise<undefined> {
    return undefined;
  }
  async payments(): Promise<PaymentRecord[]> {
    return [];
  }
  async view(): Promise<undefined> {
    return undefined;
  }
  paused(): boolean {
    return false;
  }
  kick(): void {}
  start(): void {}
  async stop(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Money for jobs. At submit the payment account's authorization goes to the bank with a hold for
 * the known slices (at least one, so an empty account is refused at once with ENOFUNDS); uploaded
 * slices top the hold up; each accepted result owes its worker the slice payment plus commission
 * (written with the result, then captured from the hold); when a job has ended and everything it
 * owes is settled, the rest of the hold goes back. A job whose account runs dry stops being handed
 * out (a `nofunds` event tells its client) and carries on once the top-up succeeds. Bank calls that
 * fail are retried by the settle loop with the same keys, so nothing is paid twice or lost across
 * restarts of either side.
 */
export class Escrow implements JobMoney {
  /** the settle loop: real time (paying out does not wait for virtual time) */
  #timer?: ClockTimer;
  #running?: Promise<void>;
  #again = false;
  #cache = new Map<string, EscrowRecord | null>();
  /** jobs waiting for funds (kept in memory: asked on every task request) */
  #paused = new Set<string>();

  constructor(
    private readonly deps: {
      bank: BankPort;
      store: EscrowStore;
      events: EventRouter;
      clock: Clock;
      identity: Identity;
      logger: Logger;
      terms: EscrowTerms;
      /** slice count and status of a job (the scheduler's job store) */
      job(id: string): Promise<{ sliceCount: number; status: string } | undefined>;
    },
  ) {}

  readonly metered = true;

  #now(): Date {
    return new Date(this.deps.clock.now());
  }

  #perSliceWithCommission(e: EscrowRecord): bigint {
    const perSlice = parseDcc(e.perSlice, { sign: 'nonNegative' });
    return perSlice + applyRate(perSlice, e.commissionRate);
  }

  async #get(jobId: string): Promise<EscrowRecord | undefined> {
    if (this.#cache.has(jobId)) return this.#cache.get(jobId) ?? undefined;
    const e = await this.deps.store.get(jobId);
    this.#cache.set(jobId, e ?? null);
    return e;
  }

  async #update(jobId: string, data: Parameters<EscrowStore['update']>[1]): Promise<void> {
    await this.deps.store.update(jobId, data, this.#now());
    this.#cache.delete(jobId);
    if (data.shortSince) this.#paused.add(jobId);
    else if (data.shortSince === null) this.#paused.delete(jobId);
  }

  /** Submit: hold funds for `slices` (≥ 1) slices. ENOFUNDS / EPERM from the bank reach the client. */
  async open(job: JobOffer, slices: number, authorization: SubmitAuthorization): Promise<void> {
    const { bank, terms } = this.deps;
    if (job.localExec) return;
    if (await this.#get(job.id)) return; // a retried submit
    const perSlice = slicePayment(job, terms.marketRate);
    if (perSlice === 0n) return; // a free job: nothing to hold or pay
    const record = {
      jobId: job.id,
      paymentAccount: job.paymentAccount,
      holdId: null,
      perSlice: formatDcc(perSlice),
      commissionRate: terms.commissionRate,
      commissionTo: this.deps.identity.address,
      fundedSlices: Math.max(1, slices),
    };
    const amount = this.#perSliceWithCommission(record as EscrowRecord) * BigInt(record.fundedSlices);
    const pending = bank.hold({
      job: job.id,
      paymentAccount: job.paymentAccount,
      amount: formatDcc(amount),
      key: `job:${job.id}:hold`,
      authorization,
    });
    // A bank that does not answer fails the submit within seconds (the client sees ENOBANK at exec())
    // instead of leaving it hanging; a hold that still lands afterwards is released at once.
    let timer: ClockTimer | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = systemClock.setTimeout(() => {
        pending.then(
          (late) => bank.release(late.hold).catch(() => {}),
          () => {},
        );
        reject(
          new DcpError(
            DcpErrorCode.ENOBANK,
            `the bank did not answer within ${Math.round((terms.holdTimeoutMs ?? 10_000) / 1000)} s: nothing was escrowed and job ${job.id} was not deployed; is the bank running?`,
          ),
        );
      }, terms.holdTimeoutMs ?? 10_000);
    });
    const hold = await Promise.race([pending, deadline]).finally(() => timer?.cancel());
    await this.deps.store.create({ ...record, holdId: hold.hold }, this.#now());
    this.#cache.delete(job.id);
    this.deps.logger.info({ job: job.id, hold: hold.hold, held: hold.held }, 'escrow held');
  }

  /** The job's compute groups are known: commission goes to the private group's owner at its rate. */
  async setCommission(jobId: string, group: { owner: string; commissionRate: string } | undefined) {
    const e = await this.#get(jobId);
    if (!e) return;
    const commissionTo = group?.owner ?? this.deps.identity.address;
    const commissionRate = group?.commissionRate ?? this.deps.terms.commissionRate;
    if (e.commissionTo === commissionTo && e.commissionRate === commissionRate) return;
    await this.#update(jobId, { commissionTo, commissionRate });
  }

  /** Slices were added: top the hold up to cover `total` slices; a short account pauses the job. */
  async fund(jobId: string, total: number): Promise<void> {
    const e = await this.#get(jobId);
    if (!e?.holdId || e.released || e.shortSince || total <= e.fundedSlices) return;
    // Never fails the upload (the slices are stored already; a retried pile would add them twice):
    // when the bank cannot be reached the job waits like a short one, and the settle loop retries.
    if (!(await this.#topUp(e, total, 0n, `job:${e.jobId}:fund:${total}`)))
      if (!(await this.#get(jobId))?.shortSince)
        await this.#update(jobId, { shortSince: this.#now(), shortAmount: null });
  }

  /**
   * Move more of the account into the hold: enough for slices up to `total` plus `extra`, under the
   * idempotency `key`. On ENOFUNDS the job goes short (paused, `nofunds` told once) and false is
   * returned, as for any other failure (the bank unreachable); a success clears the short state.
   */
  async #topUp(e: EscrowRecord, total: number, extra: bigint, key: string): Promise<boolean> {
    const { bank } = this.deps;
    if (!e.holdId) return false;
    const amount = this.#perSliceWithCommission(e) * BigInt(Math.max(0, total - e.fundedSlices)) + extra;
    if (amount <= 0n) return true;
    try {
      await bank.increase({ hold: e.holdId, amount: formatDcc(amount), key });
      await this.#update(e.jobId, {
        fundedSlices: Math.max(total, e.fundedSlices),
        shortSince: null,
        shortAmount: null,
      });
      if (e.shortSince) this.deps.logger.info({ job: e.jobId }, 'escrow funded again: the job resumes');
      return true;
    } catch (error) {
      if (!isNoFunds(error)) {
        this.deps.logger.warn({ job: e.jobId, err: error }, 'escrow top-up failed; retrying');
        return false;
      }
      if (!e.shortSince) {
        await this.#update(e.jobId, { shortSince: this.#now(), shortAmount: formatDcc(amount) });
        const remaining = Math.max(1, total - e.fundedSlices);
        this.deps.logger.warn(
          { job: e.jobId, needed: formatDcc(amount) },
          'payment account short: job paused',
        );
        await this.deps.events.emitReliable(e.jobId, 'nofunds', {
          code: DcpErrorCode.ENOFUNDS,
          message: `payment account ${e.paymentAccount} cannot cover ${formatDcc(amount)} DCC more; the job waits until it is funded`,
          remainingSlices: remaining,
          slicePaymentAmount: e.perSlice,
        });
      }
      return false;
    }
  }

  /** What an accepted result of this job owes its worker (undefined: unmetered, free or no address). */
  async paymentFor(jobId: string, payTo: string): Promise<PaymentWrite | undefined> {
    if (!/^0x[0-9a-fA-F]{40}$/.test(payTo)) return undefined;
    const e = await this.#get(jobId);
    if (!e?.holdId) return undefined;
    const perSlice = parseDcc(e.perSlice, { sign: 'nonNegative' });
    return {
      payTo,
      amount: e.perSlice,
      commissionTo: e.commissionTo,
      commission: formatDcc(applyRate(perSlice, e.commissionRate)),
    };
  }

  payments(jobId: string): Promise<PaymentRecord[]> {
    return this.deps.store.payments(jobId);
  }

  async view(jobId: string): Promise<EscrowView | undefined> {
    const e = await this.deps.store.get(jobId);
    if (!e) return undefined;
    let owed = 0n;
    let paid = 0n;
    for (const p of await this.deps.store.payments(jobId)) {
      const total =
        parseDcc(p.amount, { sign: 'nonNegative' }) + parseDcc(p.commission, { sign: 'nonNegative' });
      if (!p.settledAt) owed += total;
      else if (p.transaction) paid += total; // settled without a transaction: written off
    }
    return {
      paymentAccount: e.paymentAccount,
      hold: e.holdId,
      perSlice: e.perSlice,
      commissionRate: e.commissionRate,
      commissionTo: e.commissionTo,
      fundedSlices: e.fundedSlices,
      shortSince: e.shortSince?.toISOString() ?? null,
      released: e.released,
      owed: formatDcc(owed),
      paid: formatDcc(paid),
    };
  }

  paused(jobId: string): boolean {
    return this.#paused.has(jobId);
  }

  /** Start the settle loop (after a restart it settles what was owed before). */
  start(): void {
    if (this.#timer) return;
    void this.deps.store.short().then(
      (short) => {
        for (const e of short) this.#paused.add(e.jobId);
      },
      (error) => this.deps.logger.warn({ err: error }, 'could not read paused jobs'),
    );
    this.#timer = systemClock.setInterval(() => this.kick(), this.deps.terms.settleMs);
    this.kick();
  }

  /** Settle soon (results were written, a job ended). */
  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.settle();
        } catch (error) {
          this.deps.logger.warn({ err: error }, 'escrow settlement failed; retrying');
        }
        // kicked again meanwhile (results keep coming): let a round's worth gather first, so each
        // round is one batched capture of many payments, not a query and a bank call per tick
        if (this.#again) await new Promise((r) => systemClock.setTimeout(() => r(undefined), SETTLE_GAP_MS));
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
  }

  /** Wait for the settle loop to be idle (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.idle();
    this.#cache.clear();
    this.#paused.clear();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.deps.bank.close();
  }

  /** One settlement round: owed payments, short jobs, holds of ended jobs. */
  async settle(): Promise<void> {
    const { store } = this.deps;
    // Jobs whose owed payments wait (a short hold whose top-up failed, a bank that failed the call):
    // left out of the rest of this round, retried on the next.
    const waiting = new Set<string>();
    for (;;) {
      const owed = await store.unsettled(SETTLE_BATCH, { notJobs: [...waiting] });
      if (owed.length === 0) break;
      if (!(await this.#settleOwed(owed, waiting))) break; // nothing moved: try again later
    }
    for (const e of await store.short()) {
      const job = await this.deps.job(e.jobId);
      if (job?.status === 'running' && job.sliceCount > e.fundedSlices)
        await this.#topUp(e, job.sliceCount, 0n, `job:${e.jobId}:fund:${job.sliceCount}`);
    }
    for (const e of await store.unreleasedOfEndedJobs()) {
      if ((await store.unsettled(1, { jobId: e.jobId })).length > 0) continue;
      const released = await this.deps.bank.release(e.holdId!);
      await this.#update(e.jobId, { released: true, shortSince: null, shortAmount: null });
      this.deps.logger.info({ job: e.jobId, released: released.released }, 'escrow released');
    }
  }

  /**
   * Captures owed payments with batched calls (one request and one bank transaction for up to
   * `SETTLE_BATCH` payments) and marks the settled ones with one statement. A job whose hold is short
   * is topped up once (the existing top-up: a dry account pauses the job) and its payments captured
   * again; a job whose hold is released or unknown has its owed payments written off once. True when
   * any payment was settled or written off.
   */
  async #settleOwed(owed: PaymentRecord[], waiting: Set<string>): Promise<boolean> {
    const requests: Array<{ payment: PaymentRecord; request: CaptureRequest }> = [];
    const writeOff = new Map<string, string>();
    for (const p of owed) {
      const e = await this.#get(p.jobId);
      if (!e?.holdId || e.released) {
        writeOff.set(p.jobId, e ? 'its hold was released' : 'it has no escrow');
        continue;
      }
      requests.push({ payment: p, request: this.#captureRequest(p, e.holdId) });
    }
    let moved = await this.#writeOff(writeOff);
    const results = await this.#captureBatch(requests, waiting);
    moved = (await this.#recordSettled(results.settled, waiting)) || moved;

    // ENOFUNDS: top each short job's hold up by what its refused payments need, then capture those again
    const retry: typeof requests = [];
    for (const [jobId, short] of results.short) {
      const fresh = await this.deps.store.get(jobId);
      const need = short.reduce((sum, r) => sum + this.#total(r.payment), 0n);
      const slices = short.map((r) => r.payment.sliceNumber).sort((x, y) => x - y);
      if (fresh && (await this.#topUp(fresh, fresh.fundedSlices, need, topUpKey(jobId, slices))))
        retry.push(...short);
      else waiting.add(jobId); // a dry account: the job is paused; its payments wait
    }
    if (retry.length > 0) {
      const again = await this.#captureBatch(retry, waiting);
      moved = (await this.#recordSettled(again.settled, waiting)) || moved;
      for (const jobId of again.short.keys()) waiting.add(jobId);
    }
    return moved;
  }

  #captureRequest(p: PaymentRecord, hold: string): CaptureRequest {
    const commission = parseDcc(p.commission, { sign: 'nonNegative' });
    return {
      hold,
      to: p.payTo,
      amount: p.amount,
      ...(commission > 0n ? { commission: { to: p.commissionTo, amount: p.commission } } : {}),
      slice: p.sliceNumber,
      worker: p.worker,
      key: `job:${p.jobId}:slice:${p.sliceNumber}`,
    };
  }

  #total(p: PaymentRecord): bigint {
    return parseDcc(p.amount, { sign: 'nonNegative' }) + parseDcc(p.commission, { sign: 'nonNegative' });
  }

  /**
   * Sends the requests in batches and sorts the answers: settled (or replayed) payments, payments
   * refused for a short hold (by job), jobs to write off (their hold released or unknown). A batch
   * the bank did not answer leaves its jobs waiting for the next round.
   */
  async #captureBatch(
    requests: Array<{ payment: PaymentRecord; request: CaptureRequest }>,
    waiting: Set<string>,
  ): Promise<{
    settled: Array<{ jobId: string; sliceNumber: number; transaction: string }>;
    short: Map<string, typeof requests>;
  }> {
    const settled: Array<{ jobId: string; sliceNumber: number; transaction: string }> = [];
    const short = new Map<string, typeof requests>();
    const writeOff = new Map<string, string>();
    for (let i = 0; i < requests.length; i += SETTLE_BATCH) {
      const part = requests.slice(i, i + SETTLE_BATCH);
      let answer: CaptureBatchAnswer;
      try {
        answer = await this.deps.bank.captureBatch(part.map((r) => r.request));
      } catch (error) {
        this.deps.logger.warn({ payments: part.length, err: error }, 'capture batch failed; retrying');
        for (const r of part) waiting.add(r.payment.jobId);
        continue;
      }
      const released = new Set(answer.holds.filter((h) => h.status === 'released').map((h) => h.hold));
      part.forEach((r, j) => {
        const outcome = answer.results[j];
        const { jobId, sliceNumber } = r.payment;
        if (!outcome) {
          waiting.add(jobId);
        } else if (outcome.status !== 'failed') {
          settled.push({ jobId, sliceNumber, transaction: outcome.transaction });
        } else if (outcome.code === DcpErrorCode.ENOFUNDS && !released.has(r.request.hold)) {
          short.set(jobId, [...(short.get(jobId) ?? []), r]);
        } else if (WRITE_OFF_CODES.has(outcome.code)) {
          if (!writeOff.has(jobId)) writeOff.set(jobId, `${outcome.code}: ${outcome.message}`);
        } else {
          // anything else (EINTERNAL, …) may pass: the payment stays owed
          if (!waiting.has(jobId))
            this.deps.logger.warn(
              { job: jobId, slice: sliceNumber, code: outcome.code },
              'capture refused; retrying',
            );
          waiting.add(jobId);
        }
      });
    }
    await this.#writeOff(writeOff);
    return { settled, short };
  }

  async #recordSettled(
    settled: Array<{ jobId: string; sliceNumber: number; transaction: string }>,
    waiting: Set<string>,
  ): Promise<boolean> {
    if (settled.length === 0) return false;
    const marked = await this.deps.store.settledMany(settled, this.#now());
    if (marked < settled.length) {
      // rows settled meanwhile (another round), or not found: never resend them in this round
      for (const s of settled) waiting.add(s.jobId);
    }
    return marked > 0;
  }

  /**
   * Owed payments that can never be captured (the job's hold was released or the bank does not know
   * it — a cancelled or finished job, a restored database): written off once, logged once per job,
   * so the settle loop does not retry them forever. The escrow is marked released.
   */
  async #writeOff(jobs: Map<string, string>): Promise<boolean> {
    if (jobs.size === 0) return false;
    const count = await this.deps.store.writeOff([...jobs.keys()], this.#now());
    for (const [jobId, why] of jobs) {
      const e = await this.#get(jobId);
      if (e && !e.released)
        await this.#update(jobId, { released: true, shortSince: null, shortAmount: null });
      this.deps.logger.warn(
        { job: jobId, why },
        'owed slice payments written off: the hold cannot pay them any more',
      );
    }
    return count > 0;
  }
}

/** Payments per `captureBatch` call (and per settle step). */
const SETTLE_BATCH = 2000;

/** Per-item refusals that no retry can fix: the payments are written off. */
const WRITE_OFF_CODES = new Set<string>([DcpErrorCode.EJOBSTATE, DcpErrorCode.ENOENT]);

/** The idempotency key of the top-up for these short slices (the same slices → the same key). */
function topUpKey(jobId: string, slices: number[]): string {
  if (slices.length === 1) return `job:${jobId}:slice:${slices[0]}:topup`;
  const digest = createHash('sha256').update(slices.join(',')).digest('hex').slice(0, 16);
  return `job:${jobId}:slices:${slices[0]}-${slices.at(-1)}:${slices.length}:${digest}:topup`;
}
