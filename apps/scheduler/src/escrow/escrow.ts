import {
  DcpError,
  DcpErrorCode,
  formatDcc,
  type Identity,
  type Logger,
  parseDcc,
  UNITS_PER_DCC,
} from '@dcp-emu/protocol/node';
import type { EventRouter } from '../events/event-router';
import type { BankPort, SubmitAuthorization } from '../ports/bank.port';
import type { Clock } from '../ports/clock';
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
  #timer?: NodeJS.Timeout;
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
    const hold = await bank.hold({
      job: job.id,
      paymentAccount: job.paymentAccount,
      amount: formatDcc(amount),
      key: `job:${job.id}:hold`,
      authorization,
    });
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
      if (p.settledAt) paid += total;
      else owed += total;
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
    this.#timer = setInterval(() => this.kick(), this.deps.terms.settleMs);
    this.#timer.unref();
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
    clearInterval(this.#timer);
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
    // A short job gets one capture attempt (with its top-up) per round, not one per owed slice.
    const shortTried = new Set<string>();
    for (;;) {
      const owed = await store.unsettled(200);
      if (owed.length === 0) break;
      const results = await Promise.all(owed.map((p) => this.#capture(p, shortTried)));
      if (!results.some(Boolean)) break; // nothing moved this round: try again later
    }
    for (const e of await store.short()) {
      const job = await this.deps.job(e.jobId);
      if (job?.status === 'running' && job.sliceCount > e.fundedSlices)
        await this.#topUp(e, job.sliceCount, 0n, `job:${e.jobId}:fund:${job.sliceCount}`);
    }
    for (const e of await store.unreleasedOfEndedJobs()) {
      if ((await store.unsettled(1, e.jobId)).length > 0) continue;
      const released = await this.deps.bank.release(e.holdId!);
      await this.#update(e.jobId, { released: true, shortSince: null, shortAmount: null });
      this.deps.logger.info({ job: e.jobId, released: released.released }, 'escrow released');
    }
  }

  /** Capture one owed payment; true when it is settled. */
  async #capture(p: PaymentRecord, shortTried: Set<string>): Promise<boolean> {
    const e = await this.#get(p.jobId);
    const { bank } = this.deps;
    if (!e?.holdId) return false;
    if (e.shortSince) {
      if (shortTried.has(p.jobId)) return false;
      shortTried.add(p.jobId);
    }
    const commission = parseDcc(p.commission, { sign: 'nonNegative' });
    const key = `job:${p.jobId}:slice:${p.sliceNumber}`;
    const request = {
      hold: e.holdId,
      to: p.payTo,
      amount: p.amount,
      ...(commission > 0n ? { commission: { to: p.commissionTo, amount: p.commission } } : {}),
      slice: p.sliceNumber,
      worker: p.worker,
      key,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const done = await bank.capture(request);
        await this.deps.store.settled(p.jobId, p.sliceNumber, done.transaction, this.#now());
        return true;
      } catch (error) {
        if (!isNoFunds(error) || attempt > 0) {
          if (!isNoFunds(error))
            this.deps.logger.warn(
              { job: p.jobId, slice: p.sliceNumber, err: error },
              'capture failed; retrying',
            );
          return false;
        }
        // The hold is short (more results than funded slices, a higher commission): top it up by
        // this payment and capture again; a dry account pauses the job and the payment waits.
        const fresh = (await this.deps.store.get(p.jobId)) as EscrowRecord;
        const need = parseDcc(p.amount) + commission;
        if (!(await this.#topUp(fresh, fresh.fundedSlices, need, `${key}:topup`))) return false;
      }
    }
  }
}
