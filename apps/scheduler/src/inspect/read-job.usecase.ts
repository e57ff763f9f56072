import type { SchedulerAnswer } from '@dcp-emu/contracts';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import type { PaymentRecord } from '../escrow/escrow-store';
import { decodeInput } from '../jobs/job-input';
import { jobStatusReport } from '../pheme/job-report.usecase';
import { resultValue } from '../results/submit-result.usecase';
import type { JobRecord } from '../state/job-store';
import { renderValue } from './render-value';

export interface SlicePage {
  from?: number | undefined;
  limit: number;
}

/**
 * The inspection API's views of one job (`GET /api/jobs/:id[/slices|/escrow|/results|/events]`):
 * `find` looks the job up (ENOENT when there is none), so the caller can check who may read it
 * before asking for a view.
 */
export class ReadJob {
  constructor(private readonly ctx: SchedulerContext) {}

  async find(id: string): Promise<JobRecord> {
    const job = await this.ctx.store.getJob(id);
    if (!job) throw new DcpError(DcpErrorCode.ENOENT, `no job ${id}`);
    return job;
  }

  /** Status, slice counts, metering, offer and groups. */
  async detail(job: JobRecord): Promise<SchedulerAnswer<'JobDetail'>> {
    const counts = await this.ctx.store.sliceCounts(job.id);
    return {
      ...jobStatusReport(job, counts),
      slices: counts,
      inputKind: job.inputKind,
      generation: job.generation,
      subscribers: this.ctx.events.subscriberCount(job.id),
      metering: { cpuMs: job.cpuMs, gpuMs: job.gpuMs, bytesIn: job.bytesIn, bytesOut: job.bytesOut },
      metrics: { sliceCpuMs: job.sliceCpuMs, measuredSlices: job.measuredSlices },
      offer: { absolute: job.absolutePayment, marketValueMultiplier: job.mvMultiplier },
      groups: job.options.groups,
    };
  }

  /** Slices with their input, lease, attempts, metering and payment. */
  async slices(job: JobRecord, page: SlicePage): Promise<SchedulerAnswer<'SliceList'>> {
    const slices = await this.ctx.store.slices(job.id, { from: page.from, limit: page.limit });
    const payments = new Map((await this.ctx.escrow.payments(job.id)).map((p) => [p.sliceNumber, p]));
    return {
      slices: slices.map((s) => ({
        sliceNumber: s.sliceNumber,
        status: s.status,
        input: renderValue(decodeInput(s.input, job.range, s.sliceNumber)),
        worker: s.leaseWorker ?? s.worker,
        leaseExpires: s.leaseExpires?.toISOString(),
        attempts: s.attempts,
        errors: s.errors,
        lastError: s.lastError,
        metering:
          s.status === 'done'
            ? { cpuMs: s.cpuMs, gpuMs: s.gpuMs, bytesIn: s.bytesIn, bytesOut: s.bytesOut }
            : undefined,
        completedAt: s.completedAt?.toISOString(),
        payment: paymentView(payments.get(s.sliceNumber)),
      })),
    };
  }

  /** The job's escrow terms and what it owes and paid (metered schedulers; null otherwise). */
  async escrow(job: JobRecord): Promise<SchedulerAnswer<'JobEscrow'>> {
    return { escrow: (await this.ctx.escrow.view(job.id)) ?? null };
  }

  /** Decoded results of done slices. */
  async results(job: JobRecord, page: SlicePage): Promise<SchedulerAnswer<'ResultList'>> {
    const slices = await this.ctx.store.slices(job.id, { from: page.from, limit: page.limit });
    return {
      results: slices
        .filter((s) => s.status === 'done' && s.result)
        .map((s) => ({
          sliceNumber: s.sliceNumber,
          isError: s.resultIsError,
          value: renderResult(s.result as { string: string; method: 'json' | 'kvin' }),
        })),
    };
  }

  /**
   * The job's events, oldest first: reliable ones as stored (`stop`, `nofunds`; `delivered` tells
   * whether a client took them) and the latest optional ones pushed to clients (console, error,
   * noprogress, custom; `stored: false` and a negative `seq` of their own sequence, kept in memory
   * since the scheduler started).
   */
  async events(job: JobRecord): Promise<SchedulerAnswer<'EventList'>> {
    const stored = (await this.ctx.store.events(job.id)).map((e) => ({ ...e, stored: true }));
    const recent = this.ctx.events.recent(job.id).map((e) => ({ ...e, seq: -e.seq, stored: false }));
    const events = [...stored, ...recent].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return {
      events: events.map((e) => ({
        ...e,
        createdAt: e.createdAt.toISOString(),
        data: renderValue(e.data) as Record<string, unknown>,
      })),
    };
  }
}

/** A stored result as JSON, whatever it holds (cycles, functions, huge values); never throws. */
function renderResult(result: { string: string; method: 'json' | 'kvin' }): unknown {
  try {
    return renderValue(resultValue(result));
  } catch (e) {
    return {
      error: { name: 'EINVAL', message: `unreadable result: ${e instanceof Error ? e.message : String(e)}` },
    };
  }
}

/** A slice's payment: to whom, how much (+ commission), and whether the bank has settled it. */
function paymentView(p: PaymentRecord | undefined) {
  if (!p) return undefined;
  return {
    payTo: p.payTo,
    amount: p.amount,
    commission: p.commission,
    commissionTo: p.commissionTo,
    settled: p.settledAt !== null,
    transaction: p.transaction ?? undefined,
  };
}
