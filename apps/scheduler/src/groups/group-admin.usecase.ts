import { DcpError, DcpErrorCode, formatDcc, parseDcc } from '@dcp-emu/protocol/node';
import type { SchedulerAnswer } from '@dcp-emu/contracts';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobRecord } from '../state/job-store';
import type { ComputeGroupRecord } from '../store/compute-groups.repository';
import { groupOpaqueId, PUBLIC_GROUP } from './membership';

/** How dcp-client's compute-groups API names a group: `{joinKey}` or `{id}` (its opaque id). */
const descriptorSchema = z
  .object({ joinKey: z.string().min(1).optional(), id: z.string().min(1).optional() })
  .loose();

/** A commission rate as dcp-client sends it (a number, or a BigNumber's decimal string), 0 ≤ rate < 1. */
const rateSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const text = typeof v === 'number' ? v.toFixed(9) : v;
  try {
    const units = parseDcc(text, { sign: 'nonNegative', field: 'commissionRate' });
    if (units >= 1_000_000_000n) throw new Error('commissionRate must be below 1');
    return formatDcc(units);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

export const createGroupSchema = z
  .object({
    joinDescriptor: z
      .object({
        joinKey: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[^\s,]+$/, 'no spaces or commas')
          .optional(),
        joinHash: z.string().min(1).optional(),
        id: z.string().optional(),
        joinAddress: z.unknown().optional(),
      })
      .loose(),
    name: z.string().max(200).nullish(),
    description: z.string().max(255).nullish(),
    otherProperties: z.object({ commissionRate: rateSchema.nullish() }).loose().nullish(),
  })
  .loose();

export const changeGroupSchema = z
  .object({
    descriptor: descriptorSchema,
    newDescriptor: z
      .object({
        name: z.string().min(1).max(200).nullish(),
        description: z.string().max(255).nullish(),
        joinHash: z.string().min(1).nullish(),
        commissionRate: rateSchema.nullish(),
      })
      .loose(),
  })
  .loose();

export const groupDescriptorSchema = z.object({ descriptor: descriptorSchema }).loose();
export const removeJobSchema = z.object({ job: z.string().min(1), descriptor: descriptorSchema }).loose();

/**
 * The compute-groups service as dcp-client's compute-groups API (and dcp-util's cg-utility) speak it:
 * createGroup, changeGroup, deleteGroup, listJobs, removeJob, removeAllJobs. The caller's identity
 * owns the groups it creates; only the owner may change a group, delete it or take jobs out of it.
 * The join secret never travels: clients send its joinHash, which is what the registry keeps.
 */
export class GroupAdmin {
  constructor(private readonly ctx: SchedulerContext) {}

  async create(data: z.infer<typeof createGroupSchema>, peer: string) {
    const d = data.joinDescriptor;
    if (!d.joinKey || !d.joinHash)
      throw new DcpError(
        DcpErrorCode.EINVAL,
        'createGroup needs joinDescriptor {joinKey, joinHash} (dcp-client computes the joinHash from the joinSecret)',
      );
    if (d.joinKey === PUBLIC_GROUP.joinKey)
      throw new DcpError(DcpErrorCode.EGROUP, 'the public compute group exists already');
    const record: ComputeGroupRecord = {
      joinKey: d.joinKey,
      joinHash: d.joinHash,
      name: data.name || d.joinKey,
      owner: peer,
      commissionRate: data.otherProperties?.commissionRate ?? '0',
      createdAt: new Date(this.ctx.clock.now()),
    };
    if (!(await this.ctx.groups.create(record)))
      throw new DcpError(DcpErrorCode.EGROUP, `compute group ${d.joinKey} exists already`);
    this.ctx.logger.info({ group: d.joinKey, owner: peer }, 'compute group created over DCP');
    return { success: true, ...this.#view(record), description: data.description ?? '' };
  }

  async change(data: z.infer<typeof changeGroupSchema>, peer: string) {
    const group = await this.#owned(data.descriptor, peer);
    const n = data.newDescriptor;
    await this.ctx.groups.update(group.joinKey, {
      ...(n.name ? { name: n.name } : {}),
      ...(n.joinHash ? { joinHash: n.joinHash } : {}),
      ...(n.commissionRate ? { commissionRate: n.commissionRate } : {}),
    });
    const changed = (await this.ctx.groups.get(group.joinKey)) as ComputeGroupRecord;
    return { success: true, ...this.#view(changed) };
  }

  async delete(data: z.infer<typeof groupDescriptorSchema>, peer: string) {
    const group = await this.#owned(data.descriptor, peer);
    const removed = await this.#removeAll(group.joinKey);
    await this.ctx.groups.delete(group.joinKey);
    return { success: true, joinKey: group.joinKey, id: groupOpaqueId(group.joinKey), removedJobs: removed };
  }

  async listJobs(data: z.infer<typeof groupDescriptorSchema>, peer: string) {
    const group = await this.#owned(data.descriptor, peer);
    const jobs = await this.#jobsOf(group.joinKey);
    return {
      success: true,
      jobs: jobs.map((j) => ({ job: j.id, id: j.id, name: j.public.name, status: j.status, owner: j.owner })),
    };
  }

  async removeJob(data: z.infer<typeof removeJobSchema>, peer: string) {
    const group = await this.#owned(data.descriptor, peer);
    if (!(await this.removeJobFromGroup(group.joinKey, data.job)))
      throw new DcpError(DcpErrorCode.ENOENT, `job ${data.job} is not in compute group ${group.joinKey}`);
    return { success: true, job: data.job };
  }

  async removeAllJobs(data: z.infer<typeof groupDescriptorSchema>, peer: string) {
    const group = await this.#owned(data.descriptor, peer);
    return { success: true, removedJobs: await this.#removeAll(group.joinKey) };
  }

  /**
   * `DELETE /api/compute-groups/:joinKey/jobs/:job`: `authorize` sees the group's and the job's
   * owners first (either may do it); ENOENT when the job is not in that group. Answers the groups
   * the job is left in.
   */
  async takeJobOut(
    joinKey: string,
    jobId: string,
    authorize: (owners: (string | undefined)[]) => void,
  ): Promise<SchedulerAnswer<'JobGroups'>> {
    const job = await this.ctx.store.getJob(jobId);
    if (!job?.options.groups.includes(joinKey))
      throw new DcpError(DcpErrorCode.ENOENT, `job ${jobId} is not in compute group ${joinKey}`);
    const group = await this.ctx.groups.get(joinKey);
    authorize([group?.owner, job.owner]);
    await this.removeJobFromGroup(joinKey, jobId);
    return { job: jobId, groups: job.options.groups.filter((g) => g !== joinKey) };
  }

  /** Take a job out of a group (its workers stop getting its slices); false if it was not in it. */
  async removeJobFromGroup(joinKey: string, jobId: string): Promise<boolean> {
    const job = await this.ctx.store.getJob(jobId);
    if (!job?.options.groups.includes(joinKey)) return false;
    const groups = job.options.groups.filter((g) => g !== joinKey);
    await this.ctx.store.setOptions(jobId, { ...job.options, groups }, new Date(this.ctx.clock.now()));
    return true;
  }

  async #removeAll(joinKey: string): Promise<string[]> {
    const jobs = await this.#jobsOf(joinKey);
    for (const j of jobs) await this.removeJobFromGroup(joinKey, j.id);
    return jobs.map((j) => j.id);
  }

  async #jobsOf(joinKey: string): Promise<JobRecord[]> {
    return (await this.ctx.store.listJobs({ status: ['running'], limit: 10_000 })).filter((j) =>
      j.options.groups.includes(joinKey),
    );
  }

  async #owned(descriptor: z.infer<typeof descriptorSchema>, peer: string): Promise<ComputeGroupRecord> {
    if (descriptor.joinKey === PUBLIC_GROUP.joinKey || descriptor.id === PUBLIC_GROUP.opaqueId)
      throw new DcpError(DcpErrorCode.EPERM, 'the public compute group cannot be changed');
    const key =
      descriptor.joinKey ??
      (await this.ctx.groups.list()).find((g) => groupOpaqueId(g.joinKey) === descriptor.id)?.joinKey;
    if (!key) throw new DcpError(DcpErrorCode.EINVAL, 'name the compute group by joinKey or id');
    const group = await this.ctx.groups.get(key);
    if (!group) throw new DcpError(DcpErrorCode.ENOENT, `no compute group ${key}`);
    if (group.owner.toLowerCase() !== peer.toLowerCase())
      throw new DcpError(
        DcpErrorCode.EPERM,
        `compute group ${key} belongs to ${group.owner}, not to ${peer}`,
      );
    return group;
  }

  #view(g: ComputeGroupRecord) {
    return {
      joinKey: g.joinKey,
      id: groupOpaqueId(g.joinKey),
      name: g.name,
      owner: g.owner,
      commissionRate: g.commissionRate,
    };
  }
}
