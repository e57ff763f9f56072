import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { ComputeGroupRecord } from '../store/scheduler-store';
import { joinHash } from '../tasks/matching';
import { provesMembership } from './membership';

export const createComputeGroupSchema = z.strictObject({
  joinKey: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s,]+$/, 'no spaces or commas')
    .refine((k) => k !== 'public', 'the public group exists already'),
  joinSecret: z.string().min(1).max(500).optional(),
  name: z.string().min(1).max(200),
  commissionRate: z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string'),
  /** identity address of the creator (the scheduler's own address when absent) */
  owner: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .optional(),
});

/** A group as listed: no joinHash, no secret. */
export interface ComputeGroupView {
  joinKey: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: string;
}

export function groupView(g: ComputeGroupRecord): ComputeGroupView {
  return {
    joinKey: g.joinKey,
    name: g.name,
    owner: g.owner,
    commissionRate: g.commissionRate,
    createdAt: g.createdAt.toISOString(),
  };
}

/** The compute-group registry: create (secret returned once if generated), list, delete. */
export class ComputeGroups {
  constructor(private readonly ctx: SchedulerContext) {}

  async create(
    data: z.infer<typeof createComputeGroupSchema>,
  ): Promise<{ group: ComputeGroupView; joinSecret?: string }> {
    const generated = data.joinSecret ? undefined : this.ctx.random.string(32);
    const secret = data.joinSecret ?? (generated as string);
    const record: ComputeGroupRecord = {
      joinKey: data.joinKey,
      joinHash: joinHash(data.joinKey, secret),
      name: data.name,
      owner: data.owner ?? this.ctx.identity.address,
      commissionRate: data.commissionRate,
      createdAt: new Date(this.ctx.clock.now()),
    };
    if (!(await this.ctx.store.createComputeGroup(record)))
      throw new DcpError(DcpErrorCode.EGROUP, `compute group ${data.joinKey} exists already`);
    return generated ? { group: groupView(record), joinSecret: generated } : { group: groupView(record) };
  }

  async list(): Promise<ComputeGroupView[]> {
    return (await this.ctx.store.listComputeGroups()).map(groupView);
  }

  async delete(joinKey: string): Promise<boolean> {
    return this.ctx.store.deleteComputeGroup(joinKey);
  }

  /**
   * Check a client's `{joinKey, joinHashHash}` (computed with the dcpsid of ITS compute-groups
   * connection) against the registry; EGROUP when the group is unknown or the proof is wrong.
   */
  async verifyJoin(joinKey: string, joinHashHash: string | undefined, dcpsid: string | undefined) {
    const group = await this.ctx.store.computeGroup(joinKey);
    if (!group) throw new DcpError(DcpErrorCode.EGROUP, `no compute group with join key ${joinKey}`);
    if (!provesMembership(joinHashHash, dcpsid, group))
      throw new DcpError(DcpErrorCode.EGROUP, `wrong join secret for compute group ${joinKey}`);
  }
}
