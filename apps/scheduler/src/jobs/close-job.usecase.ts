import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from './job-lifecycle';
import { ownedJob } from './owned-job';

export const closeJobSchema = z.object({ job: z.string().min(1) }).loose();

/** `closeJob`: every slice is uploaded; the job finishes once they all have results. */
export class CloseJob {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async execute(
    data: z.infer<typeof closeJobSchema>,
    peer: string,
  ): Promise<{ success: true; lastSliceNumber: number }> {
    const job = await ownedJob(this.ctx, data.job, peer);
    const closed = job.inputClosed
      ? job
      : await this.ctx.store.closeInput(job.id, new Date(this.ctx.clock.now()));
    await this.lifecycle.finishIfDone(closed);
    return { success: true, lastSliceNumber: closed.sliceCount };
  }
}
