import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { ownedJob } from './owned-job';

export const addJobToGroupsSchema = z
  .object({
    job: z.string().min(1),
    cgArray: z
      .array(
        z
          .object({
            joinKey: z.string().optional(),
            id: z.unknown().optional(),
            joinHashHash: z.string().optional(),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();

/** `addJobToGroups`: the compute groups a job runs in (the public group unless told otherwise). */
export class AddJobToGroups {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(
    data: z.infer<typeof addJobToGroupsSchema>,
    peer: string,
  ): Promise<{ success: true; groups: string[] }> {
    const job = await ownedJob(this.ctx, data.job, peer);
    const keys = data.cgArray.flatMap((g) => (g.joinKey ? [g.joinKey] : g.id === 1 ? ['public'] : []));
    const groups = keys.length ? [...new Set(keys)] : ['public'];
    await this.ctx.store.setOptions(job.id, { ...job.options, groups }, new Date(this.ctx.clock.now()));
    return { success: true, groups };
  }
}
