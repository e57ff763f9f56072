import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { ComputeGroups } from '../groups/compute-groups.usecase';
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

/**
 * `addJobToGroups`: the compute groups a job runs in (the public group unless told otherwise). Every
 * private group must be registered and proved with `joinHashHash = eh1(dcpsid + joinHash)` on the
 * caller's session, else EGROUP and the job is left as it was.
 */
export class AddJobToGroups {
  readonly #groups: ComputeGroups;
  constructor(private readonly ctx: SchedulerContext) {
    this.#groups = new ComputeGroups(ctx);
  }

  async execute(
    data: z.infer<typeof addJobToGroupsSchema>,
    peer: string,
    dcpsid: string | undefined,
  ): Promise<{ success: true; groups: string[] }> {
    const job = await ownedJob(this.ctx, data.job, peer);
    // each group named by joinKey, opaque id or joinAddress, proved with joinHashHash (else EGROUP)
    const keys: string[] = [];
    for (const g of data.cgArray) keys.push(await this.#groups.verifyClaim(g, dcpsid));
    const groups = keys.length ? [...new Set(keys)] : ['public'];
    const privateGroups = await this.ctx.groups.byKey(groups.filter((g) => g !== 'public'));
    // Commission of a private group's job goes to the group's owner at the group's rate.
    await this.ctx.escrow.setCommission(job.id, [...privateGroups.values()][0]);
    await this.ctx.store.setOptions(job.id, { ...job.options, groups }, new Date(this.ctx.clock.now()));
    this.ctx.events.wakeWorkers();
    return { success: true, groups };
  }
}
