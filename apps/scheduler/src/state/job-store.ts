import { type PrismaDb, withDbRetry } from '@dcp-emu/db';
import {
  fromRow,
  type JobFilter,
  type JobOptions,
  type JobRecord,
  jobWhere,
  type LeasedSlice,
  type LeaseTerms,
  type LiveJob,
  type NewJob,
  type ResultOutcome,
  type ResultWrite,
  type SliceRecord,
  type StoredEvent,
  toJobRow,
} from './job-record';
import { JobEvents } from './job-events';
import type { Journal } from './journal';
import { LeaseBook } from './lease-book';
import { OwedPayments } from './owed-payments';
import { readSlices } from './slice-reader';
import { recordResult } from './slice-results';
import { SliceTracker } from './slice-tracker';

export type {
  JobFilter,
  JobOptions,
  JobPublic,
  JobRecord,
  JobStatus,
  LeasedSlice,
  LeaseTerms,
  NewJob,
  ResultOutcome,
  ResultWrite,
  SliceRecord,
  StoredEvent,
} from './job-record';

/**
 * The scheduler's jobs, slices, leases and results. While the scheduler runs, this memory is the
 * truth: every change happens here synchronously and is recorded in the journal, which writes each
 * tick's changes in one transaction; callers that answer a peer (results, submits, uploads) first
 * await `commit()`. Leases are not persisted: after a restart every slice without a result is queued
 * again, and a late result from a worker of the previous run is still accepted (first result wins).
 * Listings of jobs and stored slices read the database (cold paths).
 *
 * The aggregates have their own modules: job-record.ts (a job and its row), lease-book.ts (who holds
 * which slices), slice-tracker.ts (a running job's slice states), slice-reader.ts (slices as stored
 * plus live state), owed-payments.ts, job-events.ts (reliable events); this class ties them to the
 * journal.
 */
export class JobStore {
  readonly #jobs = new Map<string, LiveJob>();
  readonly #leases: LeaseBook;
  readonly #events: JobEvents;
  /** slice payments owed to workers (the escrow settles them) */
  readonly owed: OwedPayments;

  constructor(
    private readonly prisma: PrismaDb,
    readonly journal: Journal,
    leaseTerms: LeaseTerms,
  ) {
    this.owed = new OwedPayments(journal);
    this.#leases = new LeaseBook(leaseTerms);
    this.#events = new JobEvents(prisma, journal);
  }

  /**
   * A read through Prisma (the cold paths: listings, replays, start-up), run again while the database
   * only says "busy" (another process's write, WAL recovery after a kill): slower, never failed.
   */
  #read<T>(query: () => Promise<T>): Promise<T> {
    return withDbRetry(query);
  }

  /** Rebuild the memory from the database (start-up, after a state restore). */
  async load(): Promise<void> {
    this.#jobs.clear();
    this.#leases.clear();
    this.owed.clear();
    for (const p of await this.#read(() =>
      this.prisma.schedPayment.findMany({
        where: { settledAt: null },
        orderBy: [{ createdAt: 'asc' }, { sliceNumber: 'asc' }],
      }),
    ))
      this.owed.add(p);
    await this.#events.load();
    for (const row of await this.#read(() =>
      this.prisma.schedJob.findMany({ where: { status: 'running' } }),
    )) {
      const live = this.#live(fromRow(row), row.updatedAt.getTime());
      const tracker = live.slices as SliceTracker;
      const rows = await this.#read(() =>
        this.prisma.schedSlice.findMany({
          where: { jobId: row.id },
          select: { sliceNumber: true, status: true, input: true, errors: true },
        }),
      );
      for (const r of rows) {
        if (live.record.inputKind === 'array') tracker.grow(row.sliceCount, [r.input], r.sliceNumber);
        if (r.status === 'done') tracker.restoreDone(r.sliceNumber);
        else tracker.restoreErrors(r.sliceNumber, r.errors);
      }
    }
  }

  /** Forget the memory (a state restore replaces the database underneath). */
  clear(): void {
    this.#jobs.clear();
    this.#leases.clear();
    this.owed.clear();
  }

  #live(record: JobRecord, updatedAt: number): LiveJob {
    const live: LiveJob = {
      record,
      frozen: {
        rangeJson: record.range ? JSON.stringify(record.range) : null,
        argumentsJson: JSON.stringify(record.arguments),
        requirementsJson: JSON.stringify(record.requirements ?? null),
        publicJson: JSON.stringify(record.public),
      },
      updatedAt,
    };
    if (record.status === 'running')
      live.slices = new SliceTracker(record.sliceCount, record.inputKind === 'array');
    this.#jobs.set(record.id, live);
    return live;
  }

  #touch(live: LiveJob, now: number): void {
    live.updatedAt = now;
    this.journal.job(live.record.id, () => toJobRow(live));
  }

  /** Insert a job (and its first slices) unless it exists: submits are retried by clients. */
  async createJob(
    job: NewJob,
    now: Date,
    inputs: string[] = [],
  ): Promise<{ job: JobRecord; created: boolean }> {
    const existing = await this.getJob(job.id);
    if (existing) return { job: existing, created: false };
    const record: JobRecord = {
      ...job,
      status: 'running',
      sliceCount: job.sliceCount + inputs.length,
      completedCount: 0,
      errorCount: 0,
      sliceCpuMs: 0,
      sliceCpuDensity: 1,
      measuredSlices: 0,
      cpuMs: 0,
      gpuMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      createdAt: now,
    };
    const live = this.#live(record, now.getTime());
    live.deployStepAt = now.getTime();
    this.#touch(live, now.getTime());
    this.#addInputs(live, job.sliceCount + 1, inputs);
    await this.journal.commit();
    return { job: record, created: true };
  }

  #addInputs(live: LiveJob, first: number, inputs: string[]): void {
    if (!inputs.length) return;
    live.slices?.grow(first + inputs.length - 1, inputs, first);
    this.journal.inputs(inputs.map((input, k) => ({ jobId: live.record.id, sliceNumber: first + k, input })));
  }

  /** The job, from memory (running and recently seen jobs) or the database. */
  async getJob(id: string): Promise<JobRecord | undefined> {
    const live = this.#jobs.get(id);
    if (live) return live.record;
    const row = await this.#read(() => this.prisma.schedJob.findUnique({ where: { id } }));
    if (!row) return undefined;
    const again = this.#jobs.get(id); // created meanwhile
    if (again) return again.record;
    return this.#live(fromRow(row), row.updatedAt.getTime()).record;
  }

  /** The job in memory, read from the database first if needed. */
  async #loaded(jobId: string): Promise<LiveJob | undefined> {
    if (!this.#jobs.has(jobId)) await this.getJob(jobId);
    return this.#jobs.get(jobId);
  }

  /** When the job's client last took a deploy step (submit, upload, close, compute groups), ms. */
  lastDeployStep(jobId: string): number | undefined {
    return this.#jobs.get(jobId)?.deployStepAt;
  }

  /** Running jobs (in memory). */
  runningJobs(): JobRecord[] {
    return [...this.#jobs.values()].filter((l) => l.slices).map((l) => l.record);
  }

  /** A running job's record without touching the database. */
  liveJob(id: string): JobRecord | undefined {
    return this.#jobs.get(id)?.record;
  }

  async listJobs(filter: JobFilter & { limit?: number; offset?: number } = {}): Promise<JobRecord[]> {
    const rows = await this.#read(() =>
      this.prisma.schedJob.findMany({
        where: jobWhere(filter),
        orderBy: { createdAt: 'desc' },
        take: filter.limit ?? 100,
        skip: filter.offset ?? 0,
      }),
    );
    return rows.map((r) => this.#jobs.get(r.id)?.record ?? fromRow(r));
  }

  async countJobs(filter: JobFilter = {}): Promise<number> {
    return this.#read(() => this.prisma.schedJob.count({ where: jobWhere(filter) }));
  }

  /** Append uploaded slices in order; returns the last slice number. */
  async appendSlices(jobId: string, inputs: string[], now: Date): Promise<number> {
    const live = this.#jobs.get(jobId);
    if (!live) throw new Error(`no job ${jobId}`);
    const first = live.record.sliceCount + 1;
    live.record.sliceCount += inputs.length;
    live.deployStepAt = now.getTime();
    this.#addInputs(live, first, inputs);
    this.#touch(live, now.getTime());
    await this.journal.commit();
    return live.record.sliceCount;
  }

  async closeInput(jobId: string, now: Date): Promise<JobRecord> {
    const live = this.#jobs.get(jobId);
    if (!live) throw new Error(`no job ${jobId}`);
    live.record.inputClosed = true;
    live.deployStepAt = now.getTime();
    this.#touch(live, now.getTime());
    await this.journal.commit();
    return live.record;
  }

  async setOptions(jobId: string, options: JobOptions, now: Date): Promise<void> {
    const live = await this.#loaded(jobId);
    if (!live) throw new Error(`no job ${jobId}`);
    live.record.options = options;
    live.deployStepAt = now.getTime();
    this.#touch(live, now.getTime());
    await this.journal.commit();
  }

  /** Jobs with slices to hand out, best offers first; `paused(id)` excludes jobs waiting for funds. */
  runnableJobs(paused: (jobId: string) => boolean = () => false): JobRecord[] {
    const out: JobRecord[] = [];
    for (const live of this.#jobs.values())
      if (
        live.slices &&
        live.record.status === 'running' &&
        live.slices.available > 0 &&
        !paused(live.record.id)
      )
        out.push(live.record);
    return out.sort(
      (a, b) =>
        b.absolutePayment - a.absolutePayment ||
        b.mvMultiplier - a.mvMultiplier ||
        a.createdAt.getTime() - b.createdAt.getTime(),
    );
  }

  /** Lease up to `max` slices of a running job to `worker`: returned ones first, then fresh ones. */
  leaseSlices(jobId: string, max: number, worker: string, now: number): LeasedSlice[] {
    const live = this.#jobs.get(jobId);
    if (!live?.slices || live.record.status !== 'running' || max <= 0) return [];
    const numbers = live.slices.take(max, worker, now);
    if (!numbers.length) return [];
    const held = this.#leases.held(worker, jobId);
    for (const n of numbers) held.add(n);
    this.#leases.seen(worker, now);
    const tracker = live.slices;
    return numbers.map((n) => ({ sliceNumber: n, input: tracker.input(n) }));
  }

  /** The worker talked to us: its leases last another lease period (each up to its hard limit). */
  seen(worker: string, now: number): void {
    this.#leases.seen(worker, now);
  }

  /** When a lease runs out: `leaseMs` after its worker last talked, and never past `maxLeaseMs`. */
  leaseExpires(worker: string, leasedAt: number): number {
    return this.#leases.expires(worker, leasedAt);
  }

  /** Put leased slices back in the queue; with an error, count a failed attempt. */
  requeue(
    jobId: string,
    sliceNumbers: number[],
    worker: string | undefined,
    now: number,
    error?: string,
  ): number {
    const live = this.#jobs.get(jobId);
    if (!live?.slices) return 0;
    let n = 0;
    for (const s of sliceNumbers) {
      const holder = live.slices.leases.get(s)?.worker;
      if (holder === undefined || !live.slices.release(s, worker)) continue;
      this.#leases.unhold(holder, jobId, s);
      n++;
      if (error) {
        const errors = live.slices.failed(s);
        this.journal.failure({ jobId, sliceNumber: s, errors, lastError: error });
      }
    }
    if (error && n) {
      live.record.errorCount += n;
      this.#touch(live, now);
    }
    return n;
  }

  /** Re-queue every slice leased to `worker` (it went away or returned them all). */
  requeueWorker(worker: string, now: number): number {
    const jobs = this.#leases.jobsOf(worker);
    if (!jobs) return 0;
    let n = 0;
    for (const [jobId, set] of [...jobs]) n += this.requeue(jobId, [...set], worker, now);
    this.#leases.forget(worker);
    return n;
  }

  /** Re-queue leases that ran out. */
  requeueExpired(now: number): number {
    let n = 0;
    for (const [worker, jobs] of this.#leases.holders())
      for (const [jobId, set] of [...jobs]) {
        const tracker = this.#jobs.get(jobId)?.slices;
        const expired = [...set].filter((s) => {
          const lease = tracker?.leases.get(s);
          return !lease || this.leaseExpires(worker, lease.leasedAt) < now;
        });
        if (!tracker) {
          jobs.delete(jobId);
          continue;
        }
        n += this.requeue(jobId, expired, worker, now);
      }
    return n;
  }

  maxSliceErrors(jobId: string): number {
    return this.#jobs.get(jobId)?.slices?.maxErrors ?? 0;
  }

  /**
   * Record results in memory (the first valid result of a slice wins; a late or duplicate one is
   * reported as such and changes nothing) and in the journal; resolves once they are committed.
   */
  async recordResults(batch: ResultWrite[], now: Date): Promise<ResultOutcome[]> {
    const outcomes = batch.map((w) => this.#record(w, now.getTime()));
    await this.journal.commit();
    // owed only once durable: the bank never captures a payment whose result could still be lost
    batch.forEach((w, i) => {
      if (w.payment && outcomes[i] === 'accepted')
        this.owed.add({ jobId: w.jobId, sliceNumber: w.sliceNumber, worker: w.worker, ...w.payment });
    });
    return outcomes;
  }

  #record(w: ResultWrite, now: number): ResultOutcome {
    const live = this.#jobs.get(w.jobId);
    const outcome = recordResult(live, w, now, this.journal, this.#leases);
    if (live && outcome === 'accepted') this.#touch(live, now);
    return outcome;
  }

  /** running → finished or cancelled, once; returns the job when this call changed it. */
  async endJob(
    jobId: string,
    status: 'finished' | 'cancelled',
    now: Date,
    reason?: string,
    code?: string,
  ): Promise<JobRecord | undefined> {
    const live = await this.#loaded(jobId);
    if (live?.record.status !== 'running') return undefined;
    const j = live.record;
    j.status = status;
    j.finishedAt = now;
    j.cancelReason = reason;
    j.cancelCode = code;
    for (const [n, lease] of live.slices?.leases ?? []) this.#leases.unhold(lease.worker, jobId, n);
    live.slices = undefined;
    this.#touch(live, now.getTime());
    await this.journal.commit();
    return j;
  }

  /** Slices of a job as the inspection API and fetchResult see them (stored rows + live state). */
  slices(
    jobId: string,
    opts: { from?: number; limit?: number; numbers?: number[] } = {},
  ): Promise<SliceRecord[]> {
    return readSlices(
      this.prisma,
      jobId,
      this.#jobs.get(jobId)?.slices,
      (w, at) => this.leaseExpires(w, at),
      opts,
    );
  }

  async sliceCounts(jobId: string): Promise<{ queued: number; leased: number; done: number }> {
    const tracker = this.#jobs.get(jobId)?.slices;
    if (tracker) return tracker.counts();
    const done = await this.#read(() => this.prisma.schedSlice.count({ where: { jobId, status: 'done' } }));
    const job = await this.getJob(jobId);
    return { queued: Math.max(0, (job?.sliceCount ?? done) - done), leased: 0, done };
  }

  leasesOf(worker: string): { jobId: string; sliceNumber: number }[] {
    return [...(this.#leases.jobsOf(worker) ?? [])].flatMap(([jobId, set]) =>
      [...set].map((sliceNumber) => ({ jobId, sliceNumber })),
    );
  }

  /** Workers currently holding leases, with the slices they hold. */
  workers(): { worker: string; slices: { jobId: string; sliceNumber: number; leaseExpires?: string }[] }[] {
    return this.#leases.holders().map(([worker, jobs]) => ({
      worker,
      slices: [...jobs].flatMap(([jobId, set]) => {
        const tracker = this.#jobs.get(jobId)?.slices;
        return [...set].map((sliceNumber) => {
          const lease = tracker?.leases.get(sliceNumber);
          return {
            jobId,
            sliceNumber,
            leaseExpires: lease
              ? new Date(this.leaseExpires(worker, lease.leasedAt)).toISOString()
              : undefined,
          };
        });
      }),
    }));
  }

  /** Store a reliable event (`stop`, `nofunds`) with the job's state; resolves once committed. */
  addEvent(jobId: string, name: string, data: Record<string, unknown>, now: Date): Promise<StoredEvent> {
    return this.#events.add(jobId, name, data, now);
  }

  pendingEvents(jobId: string): Promise<StoredEvent[]> {
    return this.#events.pending(jobId);
  }

  events(jobId: string): Promise<(StoredEvent & { delivered: boolean; createdAt: Date })[]> {
    return this.#events.all(jobId);
  }

  markDelivered(seq: number): Promise<void> {
    return this.#events.markDelivered(seq);
  }
}
