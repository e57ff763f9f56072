/**
 * Who holds which slices: worker → job → slice numbers, and when each worker last talked to us. A
 * lease lasts `leaseMs` after its worker last talked, and never past `maxLeaseMs` after it was taken.
 */
import type { LeaseTerms } from './job-record';

export class LeaseBook {
  /** worker → job → slice numbers it holds */
  readonly #byWorker = new Map<string, Map<string, Set<number>>>();
  /** worker → when it last talked to us (ms) */
  readonly #lastSeen = new Map<string, number>();

  constructor(private readonly terms: LeaseTerms) {}

  clear(): void {
    this.#byWorker.clear();
    this.#lastSeen.clear();
  }

  /** The slices of `jobId` that `worker` holds (created empty). */
  held(worker: string, jobId: string): Set<number> {
    let jobs = this.#byWorker.get(worker);
    if (!jobs) {
      jobs = new Map();
      this.#byWorker.set(worker, jobs);
    }
    let set = jobs.get(jobId);
    if (!set) {
      set = new Set();
      jobs.set(jobId, set);
    }
    return set;
  }

  unhold(worker: string, jobId: string, n: number): void {
    const jobs = this.#byWorker.get(worker);
    const set = jobs?.get(jobId);
    if (!set) return;
    set.delete(n);
    if (set.size === 0) jobs?.delete(jobId);
    if (jobs?.size === 0) this.#byWorker.delete(worker);
  }

  /** The worker talked to us: its leases last another lease period (each up to its hard limit). */
  seen(worker: string, now: number): void {
    this.#lastSeen.set(worker, now);
  }

  /** When a lease runs out: `leaseMs` after its worker last talked, and never past `maxLeaseMs`. */
  expires(worker: string, leasedAt: number): number {
    const seen = Math.max(leasedAt, this.#lastSeen.get(worker) ?? leasedAt);
    return Math.min(leasedAt + this.terms.maxLeaseMs, seen + this.terms.leaseMs);
  }

  /** job → slice numbers held by `worker` (the live map), if it holds any. */
  jobsOf(worker: string): Map<string, Set<number>> | undefined {
    return this.#byWorker.get(worker);
  }

  forget(worker: string): void {
    this.#byWorker.delete(worker);
  }

  /** A snapshot of the holders (the per-job maps are live). */
  holders(): [string, Map<string, Set<number>>][] {
    return [...this.#byWorker];
  }
}
