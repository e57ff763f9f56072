/**
 * The job aggregate's shapes: a job as the scheduler keeps it (JobRecord, its options and public
 * part), what a submit, a lease, a result and a stored slice or event look like, and the mapping
 * between a job and its `sched_jobs` row.
 */
import type { PrismaDb } from '@dcp-emu/db';
import type { Generation } from '@dcp-emu/protocol/node';
import type { JobArgument, RangeSpec } from '../jobs/job-input';
import type { ResultStorage } from '../jobs/result-storage';
import type { JobRow } from './journal';
import type { SliceTracker } from './slice-tracker';

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

/** The offer and usage columns: the same names and values in a record and its row. */
type OfferAndUsage = Pick<
  JobRecord,
  | 'absolutePayment'
  | 'mvMultiplier'
  | 'sliceCpuMs'
  | 'sliceCpuDensity'
  | 'measuredSlices'
  | 'cpuMs'
  | 'gpuMs'
  | 'bytesIn'
  | 'bytesOut'
>;

function offerAndUsage(x: OfferAndUsage): OfferAndUsage {
  const { absolutePayment, mvMultiplier, sliceCpuMs, sliceCpuDensity, measuredSlices } = x;
  const { cpuMs, gpuMs, bytesIn, bytesOut } = x;
  return {
    absolutePayment,
    mvMultiplier,
    sliceCpuMs,
    sliceCpuDensity,
    measuredSlices,
    cpuMs,
    gpuMs,
    bytesIn,
    bytesOut,
  };
}

type JobDbRow = Awaited<ReturnType<PrismaDb['schedJob']['findUnique']>> & object;

export function fromRow(r: JobDbRow): JobRecord {
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
    ...offerAndUsage(r),
    cancelReason: r.cancelReason ?? undefined,
    cancelCode: r.cancelCode ?? undefined,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt ?? undefined,
  };
}

export function jobWhere(filter: JobFilter) {
  return {
    ...(filter.owner ? { owner: filter.owner } : {}),
    ...(filter.status ? { status: { in: filter.status } } : {}),
    ...(filter.accounts
      ? { OR: [{ owner: { in: filter.accounts } }, { paymentAccount: { in: filter.accounts } }] }
      : {}),
  };
}

/** A job in memory: its record, its frozen columns and, while it runs, its slices. */
export interface LiveJob {
  record: JobRecord;
  /** static columns, serialized once */
  frozen: Pick<JobRow, 'rangeJson' | 'argumentsJson' | 'requirementsJson' | 'publicJson'>;
  /** slice states while the job runs */
  slices?: SliceTracker;
  updatedAt: number;
  /** when the client last took a deploy step (submit, upload, close, compute groups), ms */
  deployStepAt?: number;
}

/** The `sched_jobs` row of a job in memory. */
export function toJobRow(live: LiveJob): JobRow {
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
    ...offerAndUsage(j),
    cancelReason: j.cancelReason ?? null,
    cancelCode: j.cancelCode ?? null,
    createdAt: j.createdAt.getTime(),
    updatedAt: live.updatedAt,
    finishedAt: j.finishedAt?.getTime() ?? null,
  };
}
