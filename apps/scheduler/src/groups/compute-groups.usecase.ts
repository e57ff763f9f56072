import { DcpError, DcpErrorCode, getDefaultCrypto, toChecksumAddress } from '@dcp-emu/protocol/node';
import { createComputeGroupRequest, type SchedulerAnswer } from '@dcp-emu/contracts';
import type { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { ComputeGroupRecord } from '../store/compute-groups.repository';
import { joinHash } from '../tasks/matching';
import { type ClaimedGroup, claimedKey, groupOpaqueId, PUBLIC_GROUP, provesMembership } from './membership';

/** `POST /api/compute-groups`'s body (the REST contract). */
export const createComputeGroupSchema = createComputeGroupRequest;

/** A group as listed: no joinHash, no secret. */
export interface ComputeGroupView {
  /** the registry key: the joinKey, or the joinAddress of an address-salted group */
  joinKey: string;
  /** its opaque id, by which dcp-client may name it (`{id, joinAddress}`) */
  id: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: string;
}

export function groupView(g: ComputeGroupRecord): ComputeGroupView {
  return {
    joinKey: g.joinKey,
    id: groupOpaqueId(g.joinKey),
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
    const key = data.joinKey ?? toChecksumAddress(getDefaultCrypto(), data.joinAddress as string);
    const record: ComputeGroupRecord = {
      joinKey: key,
      joinHash: joinHash(key, secret),
      name: data.name,
      owner: data.owner ?? this.ctx.identity.address,
      commissionRate: data.commissionRate,
      createdAt: new Date(this.ctx.clock.now()),
    };
    if (!(await this.ctx.groups.create(record)))
      throw new DcpError(DcpErrorCode.EGROUP, `compute group ${key} exists already`);
    return generated ? { group: groupView(record), joinSecret: generated } : { group: groupView(record) };
  }

  async list(): Promise<ComputeGroupView[]> {
    return (await this.ctx.groups.list()).map(groupView);
  }

  /** Every group with its running jobs, or (`jobs: 'all'`) its jobs of every status, newest first. */
  async listWithJobs(which?: string): Promise<SchedulerAnswer<'ComputeGroupList'>> {
    const jobs = await this.ctx.store.listJobs(
      which === 'all' ? { limit: 1000 } : { status: ['running'], limit: 1000 },
    );
    const byGroup = new Map<string, string[]>();
    for (const j of jobs) for (const g of j.options.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), j.id]);
    const groups = await this.list();
    return { groups: groups.map((g) => ({ ...g, jobs: byGroup.get(g.joinKey) ?? [] })) };
  }

  /** Delete a group: `authorize` sees its owner first; ENOENT when there is no such group. */
  async remove(
    joinKey: string,
    authorize: (owners: string[]) => void,
  ): Promise<SchedulerAnswer<'DeletedComputeGroup'>> {
    const group = await this.ctx.groups.get(joinKey);
    if (!group) throw new DcpError(DcpErrorCode.ENOENT, `no compute group with join key ${joinKey}`);
    authorize([group.owner]);
    if (!(await this.ctx.groups.delete(joinKey)))
      throw new DcpError(DcpErrorCode.ENOENT, `no compute group with join key ${joinKey}`);
    return { deleted: joinKey };
  }

  async delete(joinKey: string): Promise<boolean> {
    return this.ctx.groups.delete(joinKey);
  }

  /**
   * Check a client's `{joinKey, joinHashHash}` (computed with the dcpsid of ITS compute-groups
   * connection) against the registry; EGROUP when the group is unknown or the proof is wrong.
   */
  /**
   * Check one entry of a job's `cgArray` however dcp-client names the group (joinKey, the public
   * group's descriptor, `{id, joinAddress}`, see ClaimedGroup) and return its registry key ('public'
   * for the public group); EGROUP when it names no registered group or its proof is wrong.
   */
  async verifyClaim(claim: ClaimedGroup, dcpsid: string | undefined): Promise<string> {
    const keys = claim.joinKey ? [claim.joinKey] : (await this.ctx.groups.list()).map((g) => g.joinKey);
    const key = claimedKey(claim, keys);
    if (key === PUBLIC_GROUP.joinKey) return key;
    if (key === undefined)
      throw new DcpError(
        DcpErrorCode.EGROUP,
        `no compute group ${JSON.stringify(claim.id ?? claim.joinAddress ?? null)}`,
      );
    await this.verifyJoin(key, claim.joinHashHash, dcpsid);
    return key;
  }

  async verifyJoin(joinKey: string, joinHashHash: string | undefined, dcpsid: string | undefined) {
    const group = await this.ctx.groups.get(joinKey);
    if (!group) throw new DcpError(DcpErrorCode.EGROUP, `no compute group with join key ${joinKey}`);
    if (!provesMembership(joinHashHash, dcpsid, group))
      throw new DcpError(DcpErrorCode.EGROUP, `wrong join secret for compute group ${joinKey}`);
  }
}
