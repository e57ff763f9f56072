import type { PrismaDb } from '@dcp-emu/db';
import type { Generation } from '@dcp-emu/protocol/node';
import type { JobArgument, RangeSpec } from '../jobs/job-input';

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
  nextRangeSlice: number;
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
  | 'nextRangeSlice'
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

export type ResultOutcome = 'accepted' | 'duplicate' | 'unknown';

export interface StoredEvent {
  seq: number;
  jobId: string;
  name: string;
  data: Record<string, unknown>;
}

type JobRow = Awaited<ReturnType<PrismaDb['schedJob']['findUnique']>> & object;
type SliceRow = Awaited<ReturnType<PrismaDb['schedSlice']['findUnique']>> & object;
type Tx = Parameters<Parameters<PrismaDb['$transaction']>[0]>[0];

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    owner: r.owner,
    paymentAccount: r.paymentAccount,
    generation: r.generation === 4 ? 4 : 5,
    status: r.status as JobStatus,
    inputClosed: r.inputClosed,
    inputKind: r.inputKind === 'range' ? 'range' : 'array',
    range: r.rangeJson ? (JSON.parse(r.rangeJson) as RangeSpec) : undefined,
    nextRangeSlice: r.nextRangeSlice,
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

function toSlice(r: SliceRow): SliceRecord {
  return {
    jobId: r.jobId,
    sliceNumber: r.sliceNumber,
    status: r.status as SliceRecord['status'],
    input: r.input,
    leaseWorker: r.leaseWorker ?? undefined,
    leaseExpires: r.leaseExpires ?? undefined,
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
  };
}

const CHUNK = 500;

/** Which jobs a listing wants. Addresses match as stored: pass each spelling (checksummed, lower case). */
export interface JobFilter {
  owner?: string;
  status?: string[];
  /** jobs deployed by (owner) or paid from (payment account) any of these addresses */
  accounts?: string[];
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

/** A registered compute group (the join secret is never stored, only `joinHash`). */
export interface ComputeGroupRecord {
  joinKey: string;
  joinHash: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: Date;
}

/**
 * The scheduler's durable state (jobs, slices with leases and results, reliable events) on SQLite or
 * PostgreSQL. Every multi-row change is one transaction; callers batch (results per tick).
 */
export class SchedulerStore {
  constructor(private readonly prisma: PrismaDb) {}

  /** Insert a job (and its first slices) unless it exists: submits are retried by clients. */
  async createJob(
    job: NewJob,
    now: Date,
    inputs: string[] = [],
  ): Promise<{ job: JobRecord; created: boolean }> {
    const existing = await this.prisma.schedJob.findUnique({ where: { id: job.id } });
    if (existing) return { job: toJob(existing), created: false };
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.schedJob.create({
          data: {
            id: job.id,
            owner: job.owner,
            paymentAccount: job.paymentAccount,
            generation: job.generation,
            status: 'running',
            inputClosed: job.inputClosed,
            inputKind: job.inputKind,
            rangeJson: job.range ? JSON.stringify(job.range) : null,
            sliceCount: job.sliceCount + inputs.length,
            workFunctionUri: job.workFunctionUri,
            argumentsJson: JSON.stringify(job.arguments),
            requirementsJson: JSON.stringify(job.requirements ?? null),
            publicJson: JSON.stringify(job.public),
            optionsJson: JSON.stringify(job.options),
            absolutePayment: job.absolutePayment,
            mvMultiplier: job.mvMultiplier,
            createdAt: now,
            updatedAt: now,
          },
        });
        await this.#insertSlices(tx, job.id, job.sliceCount + 1, inputs);
        return created;
      });
      return { job: toJob(row), created: true };
    } catch (error) {
      const again = await this.prisma.schedJob.findUnique({ where: { id: job.id } });
      if (again) return { job: toJob(again), created: false };
      throw error;
    }
  }

  async #insertSlices(tx: Tx, jobId: string, first: number, inputs: (string | null)[]): Promise<void> {
    for (let i = 0; i < inputs.length; i += CHUNK) {
      await tx.schedSlice.createMany({
        data: inputs.slice(i, i + CHUNK).map((input, k) => ({
          jobId,
          sliceNumber: first + i + k,
          status: 'queued',
          input,
        })),
      });
    }
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.prisma.schedJob.findUnique({ where: { id } });
    return row ? toJob(row) : undefined;
  }

  async listJobs(filter: JobFilter & { limit?: number; offset?: number } = {}): Promise<JobRecord[]> {
    const rows = await this.prisma.schedJob.findMany({
      where: jobWhere(filter),
      orderBy: { createdAt: 'desc' },
      take: filter.limit ?? 100,
      skip: filter.offset ?? 0,
    });
    return rows.map(toJob);
  }

  async countJobs(filter: JobFilter = {}): Promise<number> {
    return this.prisma.schedJob.count({ where: jobWhere(filter) });
  }

  /** Append uploaded slices in order; returns the last slice number. */
  async appendSlices(jobId: string, inputs: string[], now: Date): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const job = await tx.schedJob.update({
        where: { id: jobId },
        data: { sliceCount: { increment: inputs.length }, updatedAt: now },
      });
      await this.#insertSlices(tx, jobId, job.sliceCount - inputs.length + 1, inputs);
      return job.sliceCount;
    });
  }

  async closeInput(jobId: string, now: Date): Promise<JobRecord> {
    return toJob(
      await this.prisma.schedJob.update({
        where: { id: jobId },
        data: { inputClosed: true, updatedAt: now },
      }),
    );
  }

  async setOptions(jobId: string, options: JobOptions, now: Date): Promise<void> {
    await this.prisma.schedJob.update({
      where: { id: jobId },
      data: { optionsJson: JSON.stringify(options), updatedAt: now },
    });
  }

  /** Jobs with slices to hand out, best offers first; not those waiting for funds. */
  async runnableJobs(): Promise<JobRecord[]> {
    const short = await this.prisma.schedEscrow.findMany({
      where: { shortSince: { not: null }, released: false },
      select: { jobId: true },
    });
    const rows = await this.prisma.schedJob.findMany({
      where: { status: 'running', ...(short.length ? { id: { notIn: short.map((e) => e.jobId) } } : {}) },
      orderBy: [{ absolutePayment: 'desc' }, { mvMultiplier: 'desc' }, { createdAt: 'asc' }],
    });
    return rows.map(toJob).filter((j) => j.completedCount < j.sliceCount);
  }

  /**
   * Lease up to `max` slices of a job to `worker`: queued rows first, then (range jobs) the next
   * numbers of the range, materialized only now, so a huge range costs nothing until handed out.
   */
  async leaseSlices(
    jobId: string,
    max: number,
    worker: string,
    now: Date,
    expires: Date,
  ): Promise<LeasedSlice[]> {
    if (max <= 0) return [];
    return this.prisma.$transaction(async (tx) => {
      const job = await tx.schedJob.findUnique({ where: { id: jobId } });
      if (job?.status !== 'running') return [];
      const queued = await tx.schedSlice.findMany({
        where: { jobId, status: 'queued' },
        orderBy: { sliceNumber: 'asc' },
        take: max,
        select: { sliceNumber: true, input: true },
      });
      const out: LeasedSlice[] = queued.map((q) => ({ sliceNumber: q.sliceNumber, input: q.input }));
      if (queued.length)
        await tx.schedSlice.updateMany({
          where: { jobId, sliceNumber: { in: queued.map((q) => q.sliceNumber) }, status: 'queued' },
          data: {
            status: 'leased',
            leaseWorker: worker,
            leasedAt: now,
            leaseExpires: expires,
            attempts: { increment: 1 },
          },
        });
      const more = Math.min(max - out.length, job.sliceCount - job.nextRangeSlice + 1);
      if (job.inputKind === 'range' && more > 0) {
        const first = job.nextRangeSlice;
        for (let i = 0; i < more; i += CHUNK) {
          const n = Math.min(CHUNK, more - i);
          await tx.schedSlice.createMany({
            data: Array.from({ length: n }, (_, k) => ({
              jobId,
              sliceNumber: first + i + k,
              status: 'leased',
              leaseWorker: worker,
              leasedAt: now,
              leaseExpires: expires,
              attempts: 1,
            })),
          });
        }
        await tx.schedJob.update({ where: { id: jobId }, data: { nextRangeSlice: first + more } });
        for (let k = 0; k < more; k++) out.push({ sliceNumber: first + k, input: null });
      }
      return out;
    });
  }

  /** A live worker keeps its leases (capped by each lease's hard limit). */
  async renewLeases(worker: string, expires: Date, notLeasedBefore: Date): Promise<number> {
    const r = await this.prisma.schedSlice.updateMany({
      where: { leaseWorker: worker, status: 'leased', leasedAt: { gte: notLeasedBefore } },
      data: { leaseExpires: expires },
    });
    return r.count;
  }

  /** Put leased slices back in the queue; with an error, count a failed attempt. */
  async requeue(
    jobId: string,
    sliceNumbers: number[],
    worker: string | undefined,
    error?: string,
  ): Promise<number> {
    if (!sliceNumbers.length) return 0;
    return this.prisma.$transaction(async (tx) => {
      const r = await tx.schedSlice.updateMany({
        where: {
          jobId,
          sliceNumber: { in: sliceNumbers },
          status: 'leased',
          ...(worker ? { leaseWorker: worker } : {}),
        },
        data: {
          status: 'queued',
          leaseWorker: null,
          leasedAt: null,
          leaseExpires: null,
          ...(error ? { errors: { increment: 1 }, lastError: error } : {}),
        },
      });
      if (error && r.count)
        await tx.schedJob.update({ where: { id: jobId }, data: { errorCount: { increment: r.count } } });
      return r.count;
    });
  }

  /** Re-queue every slice leased to `worker` (it went away). */
  async requeueWorker(worker: string): Promise<number> {
    const r = await this.prisma.schedSlice.updateMany({
      where: { leaseWorker: worker, status: 'leased' },
      data: { status: 'queued', leaseWorker: null, leasedAt: null, leaseExpires: null },
    });
    return r.count;
  }

  /** Re-queue leases that ran out. */
  async requeueExpired(now: Date): Promise<number> {
    const r = await this.prisma.schedSlice.updateMany({
      where: { status: 'leased', leaseExpires: { lt: now } },
      data: { status: 'queued', leaseWorker: null, leasedAt: null, leaseExpires: null },
    });
    return r.count;
  }

  async maxSliceErrors(jobId: string): Promise<number> {
    const r = await this.prisma.schedSlice.aggregate({ where: { jobId }, _max: { errors: true } });
    return r._max.errors ?? 0;
  }

  /**
   * Record a batch of results in one transaction. The first valid result of a slice wins; a late or
   * duplicate one is reported as such and changes nothing.
   */
  async recordResults(batch: ResultWrite[], now: Date): Promise<ResultOutcome[]> {
    return this.prisma.$transaction(async (tx) => {
      const outcomes: ResultOutcome[] = [];
      const perJob = new Map<
        string,
        {
          done: number;
          errors: number;
          cpu: number;
          gpu: number;
          inB: number;
          outB: number;
          measured: number;
          density: number;
        }
      >();
      for (const w of batch) {
        const row = await tx.schedSlice.findUnique({
          where: { jobId_sliceNumber: { jobId: w.jobId, sliceNumber: w.sliceNumber } },
          select: { status: true },
        });
        if (!row) {
          outcomes.push('unknown');
          continue;
        }
        if (row.status === 'done') {
          outcomes.push('duplicate');
          continue;
        }
        await tx.schedSlice.update({
          where: { jobId_sliceNumber: { jobId: w.jobId, sliceNumber: w.sliceNumber } },
          data: {
            status: 'done',
            result: JSON.stringify(w.result),
            resultIsError: w.isError,
            worker: w.worker,
            paymentAddress: w.paymentAddress,
            cpuMs: w.cpuMs,
            gpuMs: w.gpuMs,
            bytesIn: w.bytesIn,
            bytesOut: w.bytesOut,
            completedAt: now,
            leaseWorker: null,
            leaseExpires: null,
            ...(w.isError ? { errors: { increment: 1 }, lastError: 'EUNCAUGHT' } : {}),
          },
        });
        if (w.payment)
          await tx.schedPayment.create({
            data: {
              jobId: w.jobId,
              sliceNumber: w.sliceNumber,
              worker: w.worker,
              createdAt: now,
              ...w.payment,
            },
          });
        const agg = perJob.get(w.jobId) ?? {
          done: 0,
          errors: 0,
          cpu: 0,
          gpu: 0,
          inB: 0,
          outB: 0,
          measured: 0,
          density: 0,
        };
        agg.done++;
        if (w.isError) agg.errors++;
        agg.cpu += w.cpuMs;
        agg.gpu += w.gpuMs;
        agg.inB += w.bytesIn;
        agg.outB += w.bytesOut;
        perJob.set(w.jobId, agg);
        outcomes.push('accepted');
      }
      for (const [jobId, a] of perJob) {
        const job = await tx.schedJob.findUnique({ where: { id: jobId } });
        if (!job) continue;
        const measured = job.measuredSlices + a.done;
        await tx.schedJob.update({
          where: { id: jobId },
          data: {
            completedCount: { increment: a.done },
            errorCount: { increment: a.errors },
            cpuMs: { increment: a.cpu },
            gpuMs: { increment: a.gpu },
            bytesIn: { increment: a.inB },
            bytesOut: { increment: a.outB },
            measuredSlices: measured,
            sliceCpuMs: (job.sliceCpuMs * job.measuredSlices + a.cpu) / measured,
            updatedAt: now,
          },
        });
      }
      return outcomes;
    });
  }

  /** running → finished or cancelled, once; returns the job when this call changed it. */
  async endJob(
    jobId: string,
    status: 'finished' | 'cancelled',
    now: Date,
    reason?: string,
    code?: string,
  ): Promise<JobRecord | undefined> {
    const r = await this.prisma.schedJob.updateMany({
      where: { id: jobId, status: 'running' },
      data: {
        status,
        finishedAt: now,
        updatedAt: now,
        cancelReason: reason ?? null,
        cancelCode: code ?? null,
      },
    });
    if (!r.count) return undefined;
    if (status === 'cancelled')
      await this.prisma.schedSlice.updateMany({
        where: { jobId, status: 'leased' },
        data: { status: 'queued', leaseWorker: null, leasedAt: null, leaseExpires: null },
      });
    return this.getJob(jobId);
  }

  async slices(
    jobId: string,
    opts: { from?: number; limit?: number; numbers?: number[] } = {},
  ): Promise<SliceRecord[]> {
    const rows = await this.prisma.schedSlice.findMany({
      where: {
        jobId,
        ...(opts.numbers ? { sliceNumber: { in: opts.numbers } } : {}),
        ...(opts.from ? { sliceNumber: { gte: opts.from } } : {}),
      },
      orderBy: { sliceNumber: 'asc' },
      take: opts.limit ?? (opts.numbers ? undefined : 1000),
    });
    return rows.map(toSlice);
  }

  async sliceCounts(jobId: string): Promise<{ queued: number; leased: number; done: number }> {
    const rows = await this.prisma.schedSlice.groupBy({
      by: ['status'],
      where: { jobId },
      _count: { _all: true },
    });
    const out = { queued: 0, leased: 0, done: 0 };
    for (const r of rows)
      if (r.status === 'queued' || r.status === 'leased' || r.status === 'done')
        out[r.status] = r._count._all;
    return out;
  }

  async leasesOf(worker: string): Promise<{ jobId: string; sliceNumber: number }[]> {
    return this.prisma.schedSlice.findMany({
      where: { leaseWorker: worker, status: 'leased' },
      select: { jobId: true, sliceNumber: true },
    });
  }

  /** Workers currently holding leases, with the slices they hold. */
  async workers(): Promise<
    { worker: string; slices: { jobId: string; sliceNumber: number; leaseExpires?: string }[] }[]
  > {
    const rows = await this.prisma.schedSlice.findMany({
      where: { status: 'leased' },
      select: { leaseWorker: true, jobId: true, sliceNumber: true, leaseExpires: true },
      take: 10_000,
    });
    const by = new Map<string, { jobId: string; sliceNumber: number; leaseExpires?: string }[]>();
    for (const r of rows) {
      const k = r.leaseWorker ?? '';
      by.set(k, [
        ...(by.get(k) ?? []),
        { jobId: r.jobId, sliceNumber: r.sliceNumber, leaseExpires: r.leaseExpires?.toISOString() },
      ]);
    }
    return [...by].map(([worker, slices]) => ({ worker, slices }));
  }

  /** Register a compute group; false if its join key is taken. */
  async createComputeGroup(group: ComputeGroupRecord): Promise<boolean> {
    const existing = await this.prisma.schedComputeGroup.findUnique({ where: { joinKey: group.joinKey } });
    if (existing) return false;
    try {
      await this.prisma.schedComputeGroup.create({ data: group });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') return false;
      throw e;
    }
  }

  async computeGroup(joinKey: string): Promise<ComputeGroupRecord | undefined> {
    return (await this.prisma.schedComputeGroup.findUnique({ where: { joinKey } })) ?? undefined;
  }

  /** Compute groups by join key (unknown keys are absent from the map). */
  async computeGroupsByKey(joinKeys: string[]): Promise<Map<string, ComputeGroupRecord>> {
    if (!joinKeys.length) return new Map();
    const rows = await this.prisma.schedComputeGroup.findMany({ where: { joinKey: { in: joinKeys } } });
    return new Map(rows.map((r) => [r.joinKey, r]));
  }

  async listComputeGroups(): Promise<ComputeGroupRecord[]> {
    return this.prisma.schedComputeGroup.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /** Remove a compute group; false if there was none. */
  async deleteComputeGroup(joinKey: string): Promise<boolean> {
    const r = await this.prisma.schedComputeGroup.deleteMany({ where: { joinKey } });
    return r.count > 0;
  }

  /** Store (or replace) a package's files. */
  async savePackage(
    name: string,
    version: string,
    files: { module: string; source: string }[],
    publisher: string,
    now: Date,
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      for (const f of files)
        await tx.schedPackageFile.upsert({
          where: { name_module: { name, module: f.module } },
          create: { name, module: f.module, version, source: f.source, publisher, createdAt: now },
          update: { version, source: f.source, publisher, createdAt: now },
        });
    });
  }

  async packageSource(name: string, module: string): Promise<string | undefined> {
    const row = await this.prisma.schedPackageFile.findUnique({ where: { name_module: { name, module } } });
    return row?.source;
  }

  async addEvent(
    jobId: string,
    name: string,
    data: Record<string, unknown>,
    now: Date,
  ): Promise<StoredEvent> {
    const row = await this.prisma.schedEvent.create({
      data: { jobId, name, dataJson: JSON.stringify(data), createdAt: now },
    });
    return { seq: row.seq, jobId, name, data };
  }

  async pendingEvents(jobId: string): Promise<StoredEvent[]> {
    const rows = await this.prisma.schedEvent.findMany({
      where: { jobId, delivered: false },
      orderBy: { seq: 'asc' },
    });
    return rows.map((r) => ({
      seq: r.seq,
      jobId: r.jobId,
      name: r.name,
      data: JSON.parse(r.dataJson) as Record<string, unknown>,
    }));
  }

  async events(jobId: string): Promise<(StoredEvent & { delivered: boolean; createdAt: Date })[]> {
    const rows = await this.prisma.schedEvent.findMany({ where: { jobId }, orderBy: { seq: 'asc' } });
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
    await this.prisma.schedEvent.update({ where: { seq }, data: { delivered: true } });
  }
}
