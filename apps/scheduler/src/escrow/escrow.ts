import {
  DcpError,
  DcpErrorCode,
  formatDcc,
  type ClockTimer,
  type Identity,
  type Logger,
  parseDcc,
} from '@dcp-emu/protocol/node';
import type { EventRouter } from '../events/event-router';
import type { BankPort, SubmitAuthorization } from '../ports/bank.port';
import { type Clock, systemClock } from '../ports/clock';
import {
  type CaptureItem,
  captureInBatches,
  captureRequest,
  paymentTotal,
  SETTLE_BATCH,
  type SettledPayment,
  topUpKey,
} from './escrow-capture';
import type { EscrowRecord, EscrowStore, PaymentRecord } from './escrow-store';
import {
  applyRate,
  type EscrowTerms,
  type EscrowView,
  type JobMoney,
  type JobOffer,
  type PaymentWrite,
  slicePayment,
} from './job-money';

export {
  applyRate,
  type EscrowTerms,
  type EscrowView,
  type JobMoney,
  type JobOffer,
  NoEscrow,
  type PaymentWrite,
  slicePayment,
} from './job-money';

/** Least time between two settle rounds while results keep arriving (ms). */
const SETTLE_GAP_MS = 200;

const isNoFunds = (e: unknown) => e instanceof DcpError && e.code === DcpErrorCode.ENOFUNDS;

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
    const requests: CaptureItem[] = [];
    const writeOff = new Map<string, string>();
    for (const p of owed) {
      const e = await this.#get(p.jobId);
      if (!e?.holdId || e.released) {
        writeOff.set(p.jobId, e ? 'its hold was released' : 'it has no escrow');
        continue;
      }
      requests.push({ payment: p, request: captureRequest(p, e.holdId) });
    }
    let moved = await this.#writeOff(writeOff);
    const results = await this.#captureBatch(requests, waiting);
    moved = (await this.#recordSettled(results.settled, waiting)) || moved;

    // ENOFUNDS: top each short job's hold up by what its refused payments need, then capture those again
    const retry: CaptureItem[] = [];
    for (const [jobId, short] of results.short) {
      const fresh = await this.deps.store.get(jobId);
      const need = short.reduce((sum, r) => sum + paymentTotal(r.payment), 0n);
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

  /** captureInBatches, then the write-offs its answers call for. */
  async #captureBatch(
    requests: CaptureItem[],
    waiting: Set<string>,
  ): Promise<{ settled: SettledPayment[]; short: Map<string, CaptureItem[]> }> {
    const { settled, short, writeOff } = await captureInBatches(
      this.deps.bank,
      this.deps.logger,
      requests,
      waiting,
    );
    await this.#writeOff(writeOff);
    return { settled, short };
  }

  async #recordSettled(settled: SettledPayment[], waiting: Set<string>): Promise<boolean> {
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
