import { DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';
import { fromUnits, toUnits } from '../../lib/dcc';
import { type UserAddresses, ownsJob, userAddresses } from '../ownership';
import type { KeystoreStore } from '../ports';
import { fail, ok, type Result } from '../result';
import type { BankApi, TrailView } from '../upstream/bank';
import type {
  JobDetail,
  JobEvent,
  JobExplanation,
  JobSummary,
  SchedulerApi,
  SliceView,
} from '../upstream/scheduler';

export interface JobDeps {
  keystores: KeystoreStore;
  scheduler: SchedulerApi;
  bank: BankApi;
}

const NOT_FOUND =
  'no such job among yours; jobs deployed with your identity or paid from your bank accounts show here';
const jobId = z.string().min(1).max(256);

/** The user's jobs (owner or payment account among their keystores), newest first. */
export async function listJobs(deps: JobDeps, userId: string): Promise<Result<JobSummary[]>> {
  const addresses = await userAddresses(deps, userId);
  if (addresses.all.size === 0) return ok([]);
  const answer = await deps.scheduler.jobsOf([...addresses.all]);
  if (!answer.ok) return answer;
  const mine = answer.value.jobs.filter((j) => ownsJob(addresses, j));
  return ok(mine.sort((a, b) => b.deployTime.localeCompare(a.deployTime)));
}

/** One job of the user, or ENOENT (also for other users' jobs: nothing is revealed about them). */
export async function ownedJob(
  deps: JobDeps,
  userId: string,
  id: string,
  addresses?: UserAddresses,
): Promise<Result<JobDetail>> {
  if (!jobId.safeParse(id).success) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const mine = addresses ?? (await userAddresses(deps, userId));
  const job = await deps.scheduler.job(id);
  if (!job.ok) return job.error.code === DcpErrorCode.ENOENT ? fail(DcpErrorCode.ENOENT, NOT_FOUND) : job;
  if (!ownsJob(mine, job.value)) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  return job;
}

export interface SliceRow extends SliceView {
  /** DCC paid for this slice (worker pay plus commission), from the bank's job trail */
  paid?: string;
  /** the result's first characters, when computed */
  preview?: string;
  resultIsError?: boolean;
}

export interface JobPage {
  job: JobDetail;
  slices: SliceRow[];
  /** console output and errors the job's slices reported, oldest first */
  events: JobEvent[];
  /** the bank's money trail; null while the bank has none for this job */
  trail: TrailView | null;
  /** slices completed per second since deploy (to finish, or to now) */
  rate: number;
}

const PREVIEW_CHARS = 120;

export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/** Sum of the amounts a trail's payment steps moved for each slice (DCC, decimal strings). */
export function paymentsBySlice(trail: TrailView | null): Map<number, string> {
  const out = new Map<number, bigint>();
  for (const step of trail?.steps ?? []) {
    if (step.kind !== 'payment' || step.transaction.refs.slice === undefined) continue;
    let moved = 0n;
    for (const p of step.transaction.postings) {
      const units = toUnits(p.amount);
      if (units > 0n) moved += units;
    }
    const slice = step.transaction.refs.slice;
    out.set(slice, (out.get(slice) ?? 0n) + moved);
  }
  return new Map([...out].map(([k, v]) => [k, fromUnits(v)]));
}

/** Everything the job page shows: progress, per-slice status, timing and payment, results, console, money. */
export async function jobPage(
  deps: JobDeps,
  userId: string,
  id: string,
  now: Date,
): Promise<Result<JobPage>> {
  const job = await ownedJob(deps, userId, id);
  if (!job.ok) return job;
  const [slices, results, events, trail] = await Promise.all([
    deps.scheduler.slices(id),
    deps.scheduler.results(id),
    deps.scheduler.events(id),
    deps.bank.trail(id),
  ]);
  if (!slices.ok) return slices;
  if (!results.ok) return results;
  if (!events.ok) return events;
  const trailView = trail.ok ? trail.value : null;
  const paid = paymentsBySlice(trailView);
  const resultBySlice = new Map(results.value.results.map((r) => [r.sliceNumber, r]));
  const rows: SliceRow[] = slices.value.slices.map((s) => {
    const r = resultBySlice.get(s.sliceNumber);
    const row: SliceRow = { ...s };
    const p =
      paid.get(s.sliceNumber) ??
      (s.payment?.settled ? fromUnits(toUnits(s.payment.amount) + toUnits(s.payment.commission)) : undefined);
    if (p !== undefined) row.paid = p;
    if (r) {
      row.preview = preview(r.value);
      row.resultIsError = r.isError;
    }
    return row;
  });
  const started = Date.parse(job.value.deployTime);
  const ended = job.value.finishedTime ? Date.parse(job.value.finishedTime) : now.getTime();
  const seconds = Math.max(0.001, (ended - started) / 1000);
  return ok({
    job: job.value,
    slices: rows,
    events: events.value.events.filter((e) => e.name !== 'result'),
    trail: trailView,
    rate: job.value.completedSlices / seconds,
  });
}

/** Cancel one of the user's running jobs. */
export async function cancelJob(
  deps: JobDeps,
  userId: string,
  id: string,
): Promise<Result<{ cancelled: boolean }>> {
  const job = await ownedJob(deps, userId, id);
  if (!job.ok) return job;
  if (job.value.status !== 'running')
    return fail(DcpErrorCode.EJOBSTATE, `the job is ${job.value.status}; only running jobs can be cancelled`);
  return deps.scheduler.cancel(id, 'Cancelled from the portal');
}

/** The bank's money trail of one of the user's jobs (an empty trail while the bank has none). */
export async function jobTrail(deps: JobDeps, userId: string, id: string): Promise<Result<TrailView>> {
  const job = await ownedJob(deps, userId, id);
  if (!job.ok) return job;
  const trail = await deps.bank.trail(id);
  if (trail.ok) return trail;
  if (trail.error.code === DcpErrorCode.ENOENT)
    return ok({ job: id, escrowed: '0', paid: '0', commission: '0', refunded: '0', holds: [], steps: [] });
  return trail;
}

/** "Why is my job idle?": the scheduler's explanation of one of the user's jobs. */
export async function explainJob(deps: JobDeps, userId: string, id: string): Promise<Result<JobExplanation>> {
  const job = await ownedJob(deps, userId, id);
  if (!job.ok) return job;
  return deps.scheduler.explain(id);
}
