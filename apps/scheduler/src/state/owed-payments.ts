import type { Journal } from './journal';

/** A slice payment owed to a worker: its result was accepted and committed, the bank has not captured it. */
export interface OwedPayment {
  jobId: string;
  sliceNumber: number;
  payTo: string;
  amount: string;
  commissionTo: string;
  commission: string;
  worker: string;
  settledAt: null;
  transaction: null;
}

/**
 * The owed slice payments, in memory (oldest first per job, jobs in the order they first owed), so
 * the escrow's settle rounds read and mark them without a database query per round: a payment
 * enters once its result's tick is committed (so the bank never captures a payment the scheduler
 * could still lose), leaves when the bank captured it or the job's owed payments are written off;
 * both are journaled (`sched_payments.settledAt`) with the next tick. Rebuilt from the table on
 * start-up (`JobStore.load`).
 */
export class OwedPayments {
  readonly #byJob = new Map<string, Map<number, OwedPayment>>();

  constructor(private readonly journal: Journal) {}

  clear(): void {
    this.#byJob.clear();
  }

  add(p: Omit<OwedPayment, 'settledAt' | 'transaction'>): void {
    let job = this.#byJob.get(p.jobId);
    if (!job) {
      job = new Map();
      this.#byJob.set(p.jobId, job);
    }
    if (!job.has(p.sliceNumber)) job.set(p.sliceNumber, { ...p, settledAt: null, transaction: null });
  }

  /** Up to `limit` owed payments: of one job, or of every job but `notJobs`. */
  list(limit: number, filter: { jobId?: string; notJobs?: readonly string[] } = {}): OwedPayment[] {
    const out: OwedPayment[] = [];
    const skip = new Set(filter.notJobs ?? []);
    const jobs = filter.jobId ? [[filter.jobId, this.#byJob.get(filter.jobId)] as const] : this.#byJob;
    for (const [jobId, owed] of jobs) {
      if (!owed || skip.has(jobId)) continue;
      for (const p of owed.values()) {
        if (out.length >= limit) return out;
        out.push(p);
      }
    }
    return out;
  }

  /**
   * Marks captured payments settled (with the bank's transaction); resolves once that is committed,
   * with how many were still owed.
   */
  async settle(
    payments: ReadonlyArray<{ jobId: string; sliceNumber: number; transaction: string }>,
    at: number,
  ): Promise<number> {
    let n = 0;
    for (const p of payments) {
      const owed = this.#byJob.get(p.jobId);
      if (!owed?.delete(p.sliceNumber)) continue;
      if (owed.size === 0) this.#byJob.delete(p.jobId);
      this.journal.settled({ jobId: p.jobId, sliceNumber: p.sliceNumber, transaction: p.transaction, at });
      n++;
    }
    if (n > 0) await this.journal.commit();
    return n;
  }

  /** Writes off what the jobs still owe (settled without a transaction); resolves with how many, committed. */
  async writeOff(jobIds: readonly string[], at: number): Promise<number> {
    let n = 0;
    for (const jobId of new Set(jobIds)) {
      const owed = this.#byJob.get(jobId);
      if (!owed) continue;
      n += owed.size;
      this.#byJob.delete(jobId);
      this.journal.writtenOff({ jobId, at });
    }
    if (n > 0) await this.journal.commit();
    return n;
  }
}
