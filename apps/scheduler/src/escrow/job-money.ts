/**
 * Money for jobs as the use cases see it: the JobMoney port, its terms and views, the slice payment
 * arithmetic, and NoEscrow for a scheduler without a bank (Escrow, in escrow.ts, is the metered one).
 */
import { parseDcc, UNITS_PER_DCC } from '@dcp-emu/protocol/node';
import type { SubmitAuthorization } from '../ports/bank.port';
import type { PaymentRecord } from './escrow-store';

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
