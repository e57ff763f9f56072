import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from './job-lifecycle';
import { ownedJob } from './owned-job';

export const cancelJobSchema = z
  .object({ job: z.string().min(1), reason: z.string().optional(), owner: z.string().optional() })
  .loose();

/** `cancelJob`: the owner stops a job; the client gets `stop {runStatus:'cancelled', reason}`. */
export class CancelJob {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async execute(data: z.infer<typeof cancelJobSchema>, peer: string): Promise<{ success: boolean }> {
    const job = await ownedJob(this.ctx, data.job, peer, true);
    if (job.status !== 'running') return { success: job.status === 'cancelled' };
    const done = await this.lifecycle.cancel(job.id, data.reason ?? 'Job cancelled by its owner');
    return { success: done };
  }
}
