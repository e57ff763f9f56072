import type { SchedulerAnswer } from '@dcp-emu/contracts';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
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

  /**
   * `POST /api/jobs/:id/cancel`: `authorize` sees the job's owner first (and throws to refuse);
   * a job that is not running is left as it is (`cancelled: false`).
   */
  async byApi(
    jobId: string,
    reason: string | undefined,
    authorize: (owners: string[]) => void,
  ): Promise<SchedulerAnswer<'CancelResult'>> {
    const job = await this.ctx.store.getJob(jobId);
    if (!job) throw new DcpError(DcpErrorCode.ENOENT, `no job ${jobId}`);
    authorize([job.owner]);
    const cancelled =
      job.status === 'running' &&
      (await this.lifecycle.cancel(jobId, reason ?? 'Job cancelled through the scheduler API'));
    return { cancelled };
  }
}
