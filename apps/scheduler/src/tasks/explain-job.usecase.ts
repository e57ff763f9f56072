import type { ExplainReason, ExplainReport, ExplainWorker } from '@dcp-emu/contracts';
import type { SchedulerContext } from '../context';
import type { JobRecord } from '../state/job-store';
import type { ConnectedWorker } from './lease-keeper';
import { meetsRequirements, perSliceOffer } from './matching';
import type { TaskRequestRecord, WorkerRequests } from './worker-requests';

// The report's shapes are the REST contract's (@dcp-emu/contracts: explainReport), owned there for
// this use case and the CLI's `dcp-emu explain` alike.
export type { ExplainReason, ExplainReport, ExplainWorker } from '@dcp-emu/contracts';

const REFUSED = /Not allowed to fetch from '([^']+)'/g;

/**
 * "Why is my job idle?": the job's own state and, for each worker that asked for work (connected, or
 * gone within a lease period), why it is not computing the job — from its last `requestTask`.
 * Read-only.
 */
export class ExplainJob {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly workers: () => ConnectedWorker[],
    private readonly requests: WorkerRequests,
  ) {}

  async execute(job: JobRecord): Promise<ExplainReport> {
    const counts = await this.ctx.store.sliceCounts(job.id);
    const offer = perSliceOffer(job, this.ctx.tuning);
    const measured = job.sliceCpuMs > 0 && !job.options.localExec;
    const wage = measured ? offer / (job.sliceCpuMs / 3_600_000) : null;
    const fundsShort = job.status === 'running' && this.ctx.escrow.paused(job.id);
    const refusedOrigins = new Set<string>();
    for (const e of this.ctx.events.recent(job.id))
      for (const m of JSON.stringify(e.data ?? null).matchAll(REFUSED)) if (m[1]) refusedOrigins.add(m[1]);

    let blocked: ExplainReport['blocked'] = null;
    if (job.status !== 'running')
      blocked = {
        reason: 'job-not-running',
        message: `the job is ${job.status}${job.cancelReason ? ` (${job.cancelReason})` : ''}: nothing is handed out`,
      };
    else if (fundsShort)
      blocked = {
        reason: 'no-funds',
        message: `ENOFUNDS: payment account ${job.paymentAccount} cannot cover the job's remaining slices; it waits until the account is funded`,
      };
    else if (counts.queued === 0)
      blocked = {
        reason: 'no-slices-queued',
        message:
          counts.leased > 0
            ? `all ${counts.leased} remaining slices are being computed`
            : job.inputClosed
              ? 'no slices are left to compute'
              : 'no slices yet: the client has not uploaded any',
      };

    const live = this.workers();
    this.requests.keepOnly(live.map((w) => w.worker));
    const refused = [...refusedOrigins];
    const workers = live.map((w) => this.#worker(w, job, wage, blocked, refused));
    if (!blocked && !workers.some((w) => w.connected))
      blocked = {
        reason: 'no-workers',
        message:
          workers.length === 0
            ? 'no workers are connected to this scheduler (start one: dcp-emu up --workers N, dcp-emu-worker or dcp-worker)'
            : 'no worker is connected now (the ones listed left)',
      };
    const report: ExplainReport = {
      job: {
        id: job.id,
        status: job.status,
        slices: { ...counts, total: job.sliceCount },
        groups: job.options.groups,
        requirements: job.requirements ?? null,
        offer,
        sliceCpuMs: job.sliceCpuMs,
        wage,
        fundsShort,
        refusedOrigins: refused,
      },
      blocked,
      workers,
      summary: '',
    };
    report.summary = summarize(report);
    return report;
  }

  #worker(
    w: ConnectedWorker,
    job: JobRecord,
    wage: number | null,
    blocked: ExplainReport['blocked'],
    refusedOrigins: string[],
  ): ExplainWorker {
    const last = this.requests.last(w.worker);
    const got = last?.got ?? [];
    const base = {
      worker: w.worker,
      address: w.address,
      connected: w.connected,
      lastRequest: last ? new Date(last.at).toISOString() : null,
      cores: last ? last.cores : null,
      groups: last?.groups ?? w.groups,
      minimumWage: last ? last.minimumWage : null,
      got,
    };
    const mine = got.find((g) => g.job === job.id);
    const held = this.ctx.store.leasesOf(w.worker).filter((l) => l.jobId === job.id).length;
    const verdict = ((): { reason: ExplainReason; message: string } => {
      if (held || (mine && job.status === 'running'))
        return {
          reason: 'computing',
          message: `computing ${held || mine?.slices} slice(s) of this job`,
        };
      if (!w.connected) return { reason: 'disconnected', message: `left at ${w.lastSeen}` };
      if (blocked) return blocked;
      if (!last) return { reason: 'eligible', message: 'has not asked for work since the scheduler started' };
      const why = explainRequest(last, job, wage);
      if (why.reason === 'rejected' && refusedOrigins.length)
        return {
          reason: 'origin-refused',
          message: `it rejected this job; its work function or data needs ${refusedOrigins.join(', ')}, which workers refused to fetch from (dcp-emu up --allow-origin <origin>)`,
        };
      return why;
    })();
    return { ...base, ...verdict };
  }
}

/**
 * Why the worker's last request would not get this (running, funded, queued) job: the first filter
 * of `RequestTask` that refuses it, else what it was busy with.
 */
export function explainRequest(
  r: TaskRequestRecord,
  job: JobRecord,
  wage: number | null,
): { reason: ExplainReason; message: string } {
  if (r.cores <= 0)
    return { reason: 'sandbox-busy', message: 'its sandboxes are all busy (it asked for work for 0 cores)' };
  if (r.only.length ? !r.only.includes(job.id) : job.options.localExec)
    return job.options.localExec && !r.only.length
      ? { reason: 'local-exec', message: 'a localExec job runs only on its own client' }
      : { reason: 'not-requested', message: `it asks for specific jobs only (${r.only.join(', ')})` };
  if (r.skipped.includes(job.id))
    return {
      reason: 'rejected',
      message:
        'it rejected this job (rejectedJobs/unresolvedJobs): e.g. its code, data or modules could not be fetched or an origin was refused',
    };
  if (job.options.discrete && r.worked.includes(job.id))
    return { reason: 'discrete-worked', message: 'a discrete job gives each worker one slice; it had one' };
  if (!job.options.localExec && !job.options.groups.some((g) => r.groups.includes(g))) {
    const unproven = r.claimed.filter((c) => !r.groups.includes(c));
    return {
      reason: 'not-in-group',
      message:
        `not in the job's compute group${job.options.groups.length === 1 ? '' : 's'} ` +
        `(${job.options.groups.join(', ') || 'none'}); the worker is in ${r.groups.join(', ') || 'no group'}` +
        (unproven.length ? ` (claimed but not proven: ${unproven.join(', ')})` : ''),
    };
  }
  if (!meetsRequirements(job.requirements, r.capabilities))
    return {
      reason: 'requirements',
      message: `the job requires ${JSON.stringify(job.requirements)}; the worker's capabilities are ${JSON.stringify(r.capabilities ?? null)}`,
    };
  if (wage !== null && r.minimumWage > 0 && wage < r.minimumWage)
    return {
      reason: 'below-minimum-wage',
      message: `the offer comes to ${round(wage)} DCC per CPU-hour, below the worker's minimum wage of ${round(r.minimumWage)}`,
    };
  if (r.got.length)
    return {
      reason: 'other-jobs-first',
      message: `it was given other jobs (better offers or older): ${r.got.map((g) => `${g.job} (${g.slices})`).join(', ')}`,
    };
  return { reason: 'eligible', message: 'nothing stops it: it gets slices of this job on its next request' };
}

function round(n: number): string {
  return Number(n.toPrecision(4)).toString();
}

function summarize(r: ExplainReport): string {
  const computing = r.workers.filter((w) => w.reason === 'computing').length;
  // a job being computed says so first, even when nothing more is queued for other workers
  if (computing) return `${computing} worker(s) are computing this job`;
  if (r.blocked) return r.blocked.message;
  if (r.job.refusedOrigins.length && !r.workers.some((w) => w.connected && w.reason === 'eligible'))
    return `workers refused to fetch from ${r.job.refusedOrigins.join(', ')} for this job (dcp-emu up --allow-origin <origin>)`;
  const reasons = new Map<ExplainReason, number>();
  for (const w of r.workers.filter((x) => x.connected))
    reasons.set(w.reason, (reasons.get(w.reason) ?? 0) + 1);
  return `no worker is computing this job: ${[...reasons].map(([k, n]) => `${n} ${k}`).join(', ')}`;
}
