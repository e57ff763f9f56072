import type { SchedulerAnswer } from '@dcp-emu/contracts';
import { sameAddress } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { ownedJob } from '../jobs/owned-job';
import type { JobRecord } from '../state/job-store';

export const jobReportSchema = z.object({ job: z.string().min(1), jobOwner: z.string().optional() }).loose();
export const listJobsSchema = z
  .object({
    job: z.string().optional(),
    statuses: z.array(z.string()).optional(),
    startDeployTime: z.union([z.number(), z.string()]).optional(),
    endDeployTime: z.union([z.number(), z.string()]).optional(),
  })
  .loose();

/** A job's status as pheme reports it (`compute.status`, 4.x `getJobInfo`, dcp-util). */
export function jobStatusReport(
  job: JobRecord,
  counts?: { queued: number; leased: number; done: number },
): SchedulerAnswer<'JobSummary'> {
  return {
    id: job.id,
    job: job.id,
    address: job.id,
    owner: job.owner,
    paymentAccount: job.paymentAccount,
    status: job.status,
    runStatus: job.status,
    name: job.public.name,
    description: job.public.description,
    link: job.public.link,
    totalSlices: job.sliceCount,
    total: job.sliceCount,
    completedSlices: job.completedCount,
    computed: job.completedCount,
    distributed: counts ? (counts.leased ?? 0) + (counts.done ?? 0) : job.completedCount,
    queued: counts?.queued,
    errors: job.errorCount,
    deployTime: job.createdAt.toISOString(),
    finishedTime: job.finishedAt?.toISOString(),
    cancelReason: job.cancelReason,
  };
}

/** pheme: `fetchJobReport`, `fetchSliceReport`, `listJobs`, `countJobs`, `countSlices`. */
export class JobReports {
  constructor(private readonly ctx: SchedulerContext) {}

  async jobReport(data: z.infer<typeof jobReportSchema>, peer: string): Promise<Record<string, unknown>> {
    const job = await ownedJob(this.ctx, data.job, peer);
    return jobStatusReport(job, await this.ctx.store.sliceCounts(job.id));
  }

  async sliceReport(data: z.infer<typeof jobReportSchema>, peer: string): Promise<Record<string, unknown>> {
    const job = await ownedJob(this.ctx, data.job, peer);
    const counts = await this.ctx.store.sliceCounts(job.id);
    return {
      totalSlices: job.sliceCount,
      completedSlices: job.completedCount,
      queuedSlices:
        counts.queued + Math.max(0, job.sliceCount - (counts.queued + counts.leased + counts.done)),
      workingSlices: counts.leased,
    };
  }

  async listJobs(data: z.infer<typeof listJobsSchema>, peer: string): Promise<Record<string, unknown>[]> {
    if (data.job) {
      const job = await this.ctx.store.getJob(data.job);
      return job && sameAddress(job.owner, peer) ? [jobStatusReport(job)] : [];
    }
    const from = data.startDeployTime === undefined ? undefined : new Date(data.startDeployTime).getTime();
    const to = data.endDeployTime === undefined ? undefined : new Date(data.endDeployTime).getTime();
    const jobs = await this.ctx.store.listJobs({ owner: peer, status: data.statuses, limit: 1000 });
    return jobs
      .filter(
        (j) =>
          (from === undefined || j.createdAt.getTime() >= from) &&
          (to === undefined || j.createdAt.getTime() <= to),
      )
      .map((j) => jobStatusReport(j));
  }

  async countJobs(data: z.infer<typeof listJobsSchema>, peer: string): Promise<{ count: number }> {
    return { count: await this.ctx.store.countJobs({ owner: peer, status: data.statuses }) };
  }

  async countSlices(data: z.infer<typeof jobReportSchema>, peer: string): Promise<Record<string, number>> {
    const job = await ownedJob(this.ctx, data.job, peer);
    return { total: job.sliceCount, ...(await this.ctx.store.sliceCounts(job.id)) };
  }
}
