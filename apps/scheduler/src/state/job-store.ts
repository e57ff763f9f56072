import { type PrismaDb, withDbRetry } from '@dcp-emu/db';
import { DcpErrorCode, type Generation } from '@dcp-emu/protocol/node';
import type { JobArgument, RangeSpec } from '../jobs/job-input';
import type { ResultStorage } from '../jobs/result-storage';
import type { Journal, JobRow } from './journal';
import { OwedPayments } from './owed-payments';
import { SliceTracker } from './slice-tracker';

/** Slice numbers per `IN (…)` query (SQLite binds at most 999 parameters through Prisma's adapter). */
const IN_LIST_MAX = 500;

export type JobStatus = 'running' | 'finished' | 'cancelled';

export interface JobOptions {
  dependencies: string[];
  requirePath: string[];
  worktime: { name: string; version: string };
  localExec: boolean;
  workerConsole: boolean;
  discrete: boolean;
  useStrict: boolean;
  /** compute groups the job runs in (join keys; 'public' by default) */
  groups: string[];
  /** `job.setResultStorage(url, params)`: workers POST results there (jobs/result-storage.ts) */
  resultStorage?: ResultStorage;
}

export interface JobPublic {
  name: string;
  description: string;
  link: string;
}

export interface JobRecord {
  id: string;
  owner: string;
  paymentAccount: string;
  generation: Generation;
  status: JobStatus;
  inputClosed: boolean;
  inputKind: 'array' | 'range';
  range?: RangeSpec;
  sliceCount: number;
  completedCount: number;
  errorCount: number;
  workFunctionUri: string;
  arguments: JobArgument[];
  requirements: unknown;
  public: JobPublic;
  options: JobOptions;
  absolutePayment: number;
  mvMultiplier: number;
  sliceCpuMs: number;
  sliceCpuDensity: number;
  measuredSlices: number;
  cpuMs: number;
  gpuMs: number;
  bytesIn: number;
  bytesOut: number;
  cancelReason?: string;
  cancelCode?: string;
  createdAt: Date;
  finishedAt?: Date;
}

export type NewJob = Omit<
  JobRecord,
  | 'status'
  | 'completedCount'
  | 'errorCount'
  | 'sliceCpuMs'
  | 'sliceCpuDensity'
  | 'measuredSlices'
  | 'cpuMs'
  | 'gpuMs'
  | 'bytesIn'
  | 'bytesOut'
  | 'createdAt'
  | 'finishedAt'
>;

export interface LeasedSlice {
  sliceNumber: number;
  input: string | null;
}

export interface SliceRecord {
  jobId: string;
  sliceNumber: number;
  status: 'queued' | 'leased' | 'done';
  input: string | null;
  leaseWorker?: string;
  leaseExpires?: Date;
  attempts: number;
  errors: number;
  lastError?: string;
  result?: { string: string; method: 'json' | 'kvin'; MIMEType?: string };
  resultIsError: boolean;
  worker?: string;
  cpuMs?: number;
  gpuMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  completedAt?: Date;
}

export interface ResultWrite {
  jobId: string;
  sliceNumber: number;
  worker: string;
  paymentAddress: string;
  result: { string: string; method: 'json' | 'kvin'; MIMEType?: string };
  isError: boolean;
  cpuMs: number;
  gpuMs: number;
  bytesIn: number;
  bytesOut: number;
  /** what the worker is owed for it (metered jobs), written with the result */
  payment?: { payTo: string; amount: string; commissionTo: string; commission: string };
}

/** accepted: stored; duplicate: the slice was done already; unknown: no such slice of a running job */
export type ResultOutcome = 'accepted' | 'duplicate' | 'unknown';

export interface StoredEvent {
  seq: number;
  jobId: string;
  name: string;
  data: Record<string, unknown>;
}

/** Which jobs a listing wants. Addresses match as stored: pass each spelling (checksummed, lower case). */
export interface JobFilter {
  owner?: string;
  status?: string[];
  /** jobs deployed by (owner) or paid from (payment account) any of these addresses */
  accounts?: string[];
}

/** How long leases last (ms). */
export interface LeaseTerms {
  leaseMs: number;
  maxLeaseMs: number;
}

type JobDbRow = Awaited<ReturnType<PrismaDb['schedJob']['findUnique']>> & object;

function fromRow(r: JobDbRow): JobRecord {
  return {
    id: r.id,
    owner: r.owner,
    paymentAccount: r.paymentAccount,
    generation: r.generation === 4 ? 4 : 5,
    status: r.status as JobStatus,
    inputClosed: r.inputClosed,
    inputKind: r.inputKind === 'range' ? 'range' : 'array',
    range: r.rangeJson ? (JSON.parse(r.rangeJson) as RangeSpec) : undefined,
    sliceCount: r.sliceCount,
    completedCount: r.completedCount,
    errorCount: r.errorCount,
    workFunctionUri: r.workFunctionUri,
    arguments: JSON.parse(r.argumentsJson) as JobArgument[],
    requirements: JSON.parse(r.requirementsJson) as unknown,
    public: JSON.parse(r.publicJson) as JobPublic,
    options: JSON.parse(r.optionsJson) as JobOptions,
    absolutePayment: r.absolutePayment,
    mvMultiplier: r.mvMultiplier,
    sliceCpuMs: r.sliceCpuMs,
    sliceCpuDensity: r.sliceCpuDensity,
    measuredSlices: r.measuredSlices,
    cpuMs: r.cpuMs,
    gpuMs: r.gpuMs,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    cancelReason: r.cancelReason ?? undefined,
    cancelCode: r.cancelCode ?? undefined,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt ?? undefined,
  };
}

function jobWhere(filter: JobFilter) {
  return {
    ...(filter.owner ? { owner: filter.owner } : {}),
    ...(filter.status ? { status: { in: filter.status } } : {}),
    ...(filter.accounts
      ? { OR: [{ owner: { in: filter.accounts } }, { paymentAccount: { in: filter.accounts } }] }
      : {}),
  };
}

interface LiveJob {
  record: JobRecord;
  /** static columns, serialized once */
  frozen: Pick<JobRow, 'rangeJson' | 'argumentsJson' | 'requirementsJson' | 'publicJson'>;
  /** slice states while the job runs */
  slices?: SliceTracker;
  updatedAt: number;
  /** when the client last took a deploy step (submit, upload, close, compute groups), ms */
  deployStepAt?: number;
}

/**
 * The scheduler's jobs, slices, leases and results. While the scheduler runs, this memory is the
 * truth: every change happens here synchronously and is recorded in the journal, which writes each
 * tick's changes in one transaction; callers that answer a peer (results, submits, uploads) first
 * await `commit()`. Leases are not persisted: after a restart every slice without a result is queued
 * again, and a late result from a worker of the previous run is still accepted (first result wins).
 * Listings of jobs and stored slices read the database (cold paths).
 */
export class JobStore {
  readonly #jobs = new Map<string, LiveJob>();
  /** worker → job → slice numbers it holds */
  readonly #byWorker = new Map<string, Map<string, Set<number>>>();
  /** worker → when it last talked to us (ms) */
  readonly #lastSeen = new Map<string, number>();
  #eventSeq = 0;
  /** slice payments owed to workers (the escrow settles them) */
  readonly owed: OwedPayments;

  constructor(
    private readonly prisma: PrismaDb,
    readonly journal: Journal,
    private readonly leaseTerms: LeaseTerms,
  ) {
    this.owed = new OwedPayments(journal);
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
    this.#byWorker.clear();
    this.#lastSeen.clear();
    this.owed.clear();
    for (const p of await this.#read(() =>
      this.prisma.schedPayment.findMany({
        where: { settledAt: null },
        orderBy: [{ createdAt: 'asc' }, { sliceNumber: 'asc' }],
      }),
    ))
      this.owed.add(p);
    const last = await this.#read(() =>
      this.prisma.schedEvent.findFirst({ orderBy: { seq: 'desc' }, select: { seq: true } }),
    );
    this.#eventSeq = last?.seq ?? 0;
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
    this.#byWorker.clear();
    this.#lastSeen.clear();
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

  #row(live: LiveJob): JobRow {
    const j = live.record;
    return {
      id: j.id,
      owner: j.owner,
      paymentAccount: j.paymentAccount,
      generation: j.generation,
      status: j.status,
      inputClosed: j.inputClosed,
      inputKind: j.inputKind,
      ...live.frozen,
      nextRangeSlice: 1,
      sliceCount: j.sliceCount,
      completedCount: j.completedCount,
      errorCount: j.errorCount,
      workFunctionUri: j.workFunctionUri,
      optionsJson: JSON.stringify(j.options),
      absolutePayment: j.absolutePayment,
      mvMultiplier: j.mvMultiplier,
      sliceCpuMs: j.sliceCpuMs,
      sliceCpuDensity: j.sliceCpuDensity,
      measuredSlices: j.measuredSlices,
      cpuMs: j.cpuMs,
      gpuMs: j.gpuMs,
      bytesIn: j.bytesIn,
      bytesOut: j.bytesOut,
      cancelReason: j.cancelReason ?? null,
      cancelCode: j.cancelCode ?? null,
      createdAt: j.createdAt.getTime(),
      updatedAt: live.updatedAt,
      finishedAt: j.finishedAt?.getTime() ?? null,
    };
  }

  #touch(live: LiveJob, now: number): void {
    live.updatedAt = now;
    this.journal.job(live.record.id, () => this.#row(live));
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
    const held = this.#held(worker, jobId);
    for (const n of numbers) held.add(n);
    this.#lastSeen.set(worker, now);
    const tracker = live.slices;
    return numbers.map((n) => ({ sliceNumber: n, input: tracker.input(n) }));
  }

  #held(worker: string, jobId: string): Set<number> {
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

  #unhold(worker: string, jobId: string, n: number): void {
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
  leaseExpires(worker: string, leasedAt: number): number {
    const seen = Math.max(leasedAt, this.#lastSeen.get(worker) ?? leasedAt);
    return Math.min(leasedAt + this.leaseTerms.maxLeaseMs, seen + this.leaseTerms.leaseMs);
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
      this.#unhold(holder, jobId, s);
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
    const jobs = this.#byWorker.get(worker);
    if (!jobs) return 0;
    let n = 0;
    for (const [jobId, set] of [...jobs]) n += this.requeue(jobId, [...set], worker, now);
    this.#byWorker.delete(worker);
    return n;
  }

  /** Re-queue leases that ran out. */
  requeueExpired(now: number): number {
    let n = 0;
    for (const [worker, jobs] of [...this.#byWorker])
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
    const tracker = live?.slices;
    if (!live || !tracker) return live ? 'duplicate' : 'unknown';
    if (w.sliceNumber < 1 || w.sliceNumber > tracker.size) return 'unknown';
    const holder = tracker.leases.get(w.sliceNumber)?.worker;
    if (!tracker.complete(w.sliceNumber)) return 'duplicate';
    if (holder !== undefined) this.#unhold(holder, w.jobId, w.sliceNumber);
    const errors = (tracker.errors.get(w.sliceNumber) ?? 0) + (w.isError ? 1 : 0);
    tracker.errors.delete(w.sliceNumber);
    this.journal.result({
      jobId: w.jobId,
      sliceNumber: w.sliceNumber,
      result: JSON.stringify(w.result),
      isError: w.isError,
      worker: w.worker,
      paymentAddress: w.paymentAddress,
      cpuMs: w.cpuMs,
      gpuMs: w.gpuMs,
      bytesIn: w.bytesIn,
      bytesOut: w.bytesOut,
      completedAt: now,
      attempts: tracker.attempts(w.sliceNumber),
      errors,
      lastError: w.isError ? DcpErrorCode.EUNCAUGHT : null,
    });
    if (w.payment)
      this.journal.payment({
        jobId: w.jobId,
        sliceNumber: w.sliceNumber,
        worker: w.worker,
        createdAt: now,
        ...w.payment,
      });
    const j = live.record;
    j.completedCount++;
    if (w.isError) j.errorCount++;
    j.sliceCpuMs = (j.sliceCpuMs * j.measuredSlices + w.cpuMs) / (j.measuredSlices + 1);
    j.measuredSlices++;
    j.cpuMs += w.cpuMs;
    j.gpuMs += w.gpuMs;
    j.bytesIn += w.bytesIn;
    j.bytesOut += w.bytesOut;
    this.#touch(live, now);
    return 'accepted';
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
    for (const [n, lease] of live.slices?.leases ?? []) this.#unhold(lease.worker, jobId, n);
    live.slices = undefined;
    this.#touch(live, now.getTime());
    await this.journal.commit();
    return j;
  }

  /** Slices of a job as the inspection API and fetchResult see them (stored rows + live state). */
  async slices(
    jobId: string,
    opts: { from?: number; limit?: number; numbers?: number[] } = {},
  ): Promise<SliceRecord[]> {
    const tracker = this.#jobs.get(jobId)?.slices;
    const limit = opts.limit ?? (opts.numbers ? undefined : 1000);
    const from = opts.from ?? 1;
    const query = (numbers?: number[]) =>
      this.#read(() =>
        this.prisma.schedSlice.findMany({
          where: {
            jobId,
            ...(numbers ? { sliceNumber: { in: numbers } } : {}),
            ...(!numbers && tracker ? { sliceNumber: { gte: from, lt: from + (limit ?? 1000) } } : {}),
            ...(!numbers && !tracker && opts.from ? { sliceNumber: { gte: opts.from } } : {}),
          },
          orderBy: { sliceNumber: 'asc' },
          take: tracker ? undefined : limit,
        }),
      );
    // an IN list stays below SQLite's bound-parameter limit as Prisma's adapter sets it (999)
    const rows: Awaited<ReturnType<typeof query>> = [];
    if (!opts.numbers) rows.push(...(await query()));
    else
      for (let i = 0; i < opts.numbers.length; i += IN_LIST_MAX)
        rows.push(...(await query(opts.numbers.slice(i, i + IN_LIST_MAX))));
    if (opts.numbers && !tracker) rows.sort((a, b) => a.sliceNumber - b.sliceNumber);
    const stored = rows.map(
      (r): SliceRecord => ({
        jobId: r.jobId,
        sliceNumber: r.sliceNumber,
        status: r.status === 'done' ? 'done' : 'queued',
        input: r.input,
        attempts: r.attempts,
        errors: r.errors,
        lastError: r.lastError ?? undefined,
        result: r.result ? (JSON.parse(r.result) as SliceRecord['result']) : undefined,
        resultIsError: r.resultIsError,
        worker: r.worker ?? undefined,
        cpuMs: r.cpuMs ?? undefined,
        gpuMs: r.gpuMs ?? undefined,
        bytesIn: r.bytesIn ?? undefined,
        bytesOut: r.bytesOut ?? undefined,
        completedAt: r.completedAt ?? undefined,
      }),
    );
    if (!tracker) return stored;
    // a running job: every slice of the window, done ones as stored, the others from memory
    const byNumber = new Map(stored.map((s) => [s.sliceNumber, s]));
    const numbers =
      opts.numbers ??
      Array.from(
        { length: Math.max(0, Math.min(tracker.size, from + (limit ?? 1000) - 1) - from + 1) },
        (_, k) => from + k,
      );
    const out: SliceRecord[] = [];
    for (const n of numbers) {
      if (n < 1 || n > tracker.size) continue;
      const status = tracker.status(n);
      const row = byNumber.get(n);
      if (status === 'done') {
        if (row) out.push(row);
        continue;
      }
      const lease = tracker.leases.get(n);
      out.push({
        jobId,
        sliceNumber: n,
        status,
        input: tracker.input(n),
        attempts: tracker.attempts(n),
        errors: tracker.errors.get(n) ?? 0,
        lastError: row?.lastError,
        resultIsError: false,
        ...(lease
          ? {
              leaseWorker: lease.worker,
              leaseExpires: new Date(this.leaseExpires(lease.worker, lease.leasedAt)),
            }
          : {}),
      });
    }
    return out;
  }

  async sliceCounts(jobId: string): Promise<{ queued: number; leased: number; done: number }> {
    const tracker = this.#jobs.get(jobId)?.slices;
    if (tracker) return tracker.counts();
    const done = await this.#read(() => this.prisma.schedSlice.count({ where: { jobId, status: 'done' } }));
    const job = await this.getJob(jobId);
    return { queued: Math.max(0, (job?.sliceCount ?? done) - done), leased: 0, done };
  }

  leasesOf(worker: string): { jobId: string; sliceNumber: number }[] {
    return [...(this.#byWorker.get(worker) ?? [])].flatMap(([jobId, set]) =>
      [...set].map((sliceNumber) => ({ jobId, sliceNumber })),
    );
  }

  /** Workers currently holding leases, with the slices they hold. */
  workers(): { worker: string; slices: { jobId: string; sliceNumber: number; leaseExpires?: string }[] }[] {
    return [...this.#byWorker].map(([worker, jobs]) => ({
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
  async addEvent(
    jobId: string,
    name: string,
    data: Record<string, unknown>,
    now: Date,
  ): Promise<StoredEvent> {
    const seq = ++this.#eventSeq;
    this.journal.event({ seq, jobId, name, dataJson: JSON.stringify(data), createdAt: now.getTime() });
    await this.journal.commit();
    return { seq, jobId, name, data };
  }

  async pendingEvents(jobId: string): Promise<StoredEvent[]> {
    await this.journal.flush();
    const rows = await this.#read(() =>
      this.prisma.schedEvent.findMany({
        where: { jobId, delivered: false },
        orderBy: { seq: 'asc' },
      }),
    );
    return rows.map((r) => ({
      seq: r.seq,
      jobId: r.jobId,
      name: r.name,
      data: JSON.parse(r.dataJson) as Record<string, unknown>,
    }));
  }

  async events(jobId: string): Promise<(StoredEvent & { delivered: boolean; createdAt: Date })[]> {
    const rows = await this.#read(() =>
      this.prisma.schedEvent.findMany({ where: { jobId }, orderBy: { seq: 'asc' } }),
    );
    return rows.map((r) => ({
      seq: r.seq,
      jobId: r.jobId,
      name: r.name,
      data: JSON.parse(r.dataJson) as Record<string, unknown>,
      delivered: r.delivered,
      createdAt: r.createdAt,
    }));
  }

  async markDelivered(seq: number): Promise<void> {
    this.journal.delivered(seq);
    await this.journal.commit();
  }
}
