import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eh1, joinHash } from '../tasks/matching';
import {
  openHarness,
  rangeJob,
  refusal,
  T0,
  type UseCaseHarness,
  viaRegistry,
} from '../usecase-harness.test';
import {
  changeGroupSchema,
  createGroupSchema,
  groupDescriptorSchema,
  removeJobSchema,
} from './group-admin.usecase';
import { groupOpaqueId, PUBLIC_GROUP } from './membership';

const owner = Identity.random().address;
const stranger = Identity.random().address;
const client = Identity.random().address;
const payer = '0x2222222222222222222222222222222222222222';
const dcpsid = 'G'.repeat(42);
const labHash = joinHash('lab', 'secret');

describe('GroupAdmin: the compute-groups service (SQLite registry and job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(() => h?.close());

  const create = (data: unknown, peer = owner) =>
    viaRegistry(createGroupSchema, data, (d) => h.core.groupAdmin.create(d, peer));
  const change = (data: unknown, peer = owner) =>
    viaRegistry(changeGroupSchema, data, (d) => h.core.groupAdmin.change(d, peer));
  const del = (data: unknown, peer = owner) =>
    viaRegistry(groupDescriptorSchema, data, (d) => h.core.groupAdmin.delete(d, peer));
  const listJobs = (data: unknown, peer = owner) =>
    viaRegistry(groupDescriptorSchema, data, (d) => h.core.groupAdmin.listJobs(d, peer));
  const removeJob = (data: unknown, peer = owner) =>
    viaRegistry(removeJobSchema, data, (d) => h.core.groupAdmin.removeJob(d, peer));
  const removeAll = (data: unknown, peer = owner) =>
    viaRegistry(groupDescriptorSchema, data, (d) => h.core.groupAdmin.removeAllJobs(d, peer));
  const lab = { descriptor: { joinKey: 'lab' } };
  /** a job of `client`'s put in `groups` (proved on its session) */
  async function jobIn(id: string, groups: string[]) {
    await h.core.submit.execute(rangeJob(id, payer, 1), client, 5, true);
    const cgArray = groups.map((g) => ({ joinKey: g, joinHashHash: eh1(dcpsid + labHash) }));
    await h.core.addJobToGroups.execute({ job: id, cgArray }, client, dcpsid);
  }

  it('createGroup registers the group under its creator, with its joinHash and commission', async () => {
    const answer = await create({
      joinDescriptor: { joinKey: 'lab', joinHash: labHash },
      name: 'Lab',
      description: 'our lab',
      otherProperties: { commissionRate: 0.25 },
    });
    expect(answer).toEqual({
      success: true,
      joinKey: 'lab',
      id: groupOpaqueId('lab'),
      name: 'Lab',
      owner,
      commissionRate: '0.25',
      description: 'our lab',
    });
    expect(await h.ctx.groups.get('lab')).toMatchObject({
      joinKey: 'lab',
      joinHash: labHash,
      owner,
      name: 'Lab',
      commissionRate: '0.25',
    });
    expect((await h.ctx.groups.get('lab'))?.createdAt.getTime()).toBe(T0);
  });

  it('createGroup refuses bad descriptors and rates (EINVAL), the public group and a taken key (EGROUP)', async () => {
    const before = await h.ctx.groups.list();
    const cases: [unknown, string][] = [
      [{}, DcpErrorCode.EINVAL],
      [{ joinDescriptor: { joinKey: 'a b', joinHash: 'h' } }, DcpErrorCode.EINVAL],
      [{ joinDescriptor: { joinKey: 'no-hash' } }, DcpErrorCode.EINVAL],
      [
        { joinDescriptor: { joinKey: 'r', joinHash: 'h' }, otherProperties: { commissionRate: 1 } },
        DcpErrorCode.EINVAL,
      ],
      [
        { joinDescriptor: { joinKey: 'r', joinHash: 'h' }, otherProperties: { commissionRate: '-0.1' } },
        DcpErrorCode.EINVAL,
      ],
      [{ joinDescriptor: { joinKey: 'public', joinHash: 'h' } }, DcpErrorCode.EGROUP],
      [{ joinDescriptor: { joinKey: 'lab', joinHash: 'other' } }, DcpErrorCode.EGROUP],
    ];
    for (const [data, code] of cases)
      expect((await refusal(create(data, stranger))).code, JSON.stringify(data)).toBe(code);
    expect(await h.ctx.groups.list()).toEqual(before);
  });

  it('changeGroup: the owner renames it and sets a new joinHash and rate; others get EPERM, unknown ENOENT', async () => {
    const before = await h.ctx.groups.get('lab');
    const cases: [unknown, string, string?][] = [
      [{ descriptor: { joinKey: 'lab' }, newDescriptor: { name: 'Mine' } }, DcpErrorCode.EPERM, stranger],
      [{ descriptor: { joinKey: 'public' }, newDescriptor: { name: 'x' } }, DcpErrorCode.EPERM],
      [{ descriptor: { joinKey: 'nope' }, newDescriptor: { name: 'x' } }, DcpErrorCode.ENOENT],
      [{ descriptor: {}, newDescriptor: { name: 'x' } }, DcpErrorCode.EINVAL],
      [{ descriptor: { joinKey: 'lab' }, newDescriptor: { commissionRate: 'lots' } }, DcpErrorCode.EINVAL],
      [{ descriptor: { joinKey: 'lab' } }, DcpErrorCode.EINVAL],
    ];
    for (const [data, code, peer] of cases)
      expect((await refusal(change(data, peer ?? owner))).code, JSON.stringify(data)).toBe(code);
    expect(await h.ctx.groups.get('lab')).toEqual(before);

    const renamed = await change({
      descriptor: { id: groupOpaqueId('lab') },
      newDescriptor: { name: 'Lab 2', commissionRate: '0.1' },
    });
    expect(renamed).toMatchObject({ success: true, joinKey: 'lab', name: 'Lab 2', commissionRate: '0.1' });
    expect(await h.ctx.groups.get('lab')).toMatchObject({
      name: 'Lab 2',
      commissionRate: '0.1',
      joinHash: labHash,
    });
    // the owner's spelling of its address does not matter
    await change(
      { descriptor: { joinKey: 'lab' }, newDescriptor: { joinHash: labHash } },
      owner.toLowerCase(),
    );
  });

  // (it used to be refused with EINVAL: the lookup among registered groups came first)
  it('changeGroup / deleteGroup refuse the public group named by its opaque id with EPERM', async () => {
    const publicById = { descriptor: { id: PUBLIC_GROUP.opaqueId } };
    expect((await refusal(change({ ...publicById, newDescriptor: { name: 'x' } }))).code).toBe(
      DcpErrorCode.EPERM,
    );
    expect((await refusal(del(publicById))).code).toBe(DcpErrorCode.EPERM);
  });

  it('listJobs / removeJob / removeAllJobs: the owner sees and takes out the running jobs of its group', async () => {
    await jobIn('j-1', ['lab', 'public']);
    await jobIn('j-2', ['lab']);
    await jobIn('j-pub', ['public']);
    const listed = (await listJobs(lab)) as { jobs: { job: string; owner: string; status: string }[] };
    expect(listed.jobs.map((j) => [j.job, j.owner, j.status]).sort()).toEqual([
      ['j-1', client, 'running'],
      ['j-2', client, 'running'],
    ]);
    expect((await refusal(listJobs(lab, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(removeJob({ ...lab, job: 'j-1' }, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(removeJob({ ...lab, job: 'j-pub' }))).code).toBe(DcpErrorCode.ENOENT);
    expect((await refusal(removeJob({ ...lab }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await h.ctx.store.getJob('j-1'))?.options.groups).toEqual(['lab', 'public']);

    expect(await removeJob({ ...lab, job: 'j-1' })).toEqual({ success: true, job: 'j-1' });
    expect((await h.ctx.store.getJob('j-1'))?.options.groups).toEqual(['public']);
    expect((await refusal(removeAll(lab, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect(await removeAll(lab)).toEqual({ success: true, removedJobs: ['j-2'] });
    expect((await h.ctx.store.getJob('j-2'))?.options.groups).toEqual([]);
    expect((await h.ctx.store.getJob('j-pub'))?.options.groups).toEqual(['public']);
  });

  it('deleteGroup: only the owner; takes its jobs out first, then the group is gone', async () => {
    await jobIn('j-3', ['lab']);
    expect((await refusal(del(lab, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(del({ descriptor: { joinKey: 'public' } }))).code).toBe(DcpErrorCode.EPERM);
    expect(await h.ctx.groups.get('lab')).toBeDefined();
    expect(await del(lab)).toEqual({
      success: true,
      joinKey: 'lab',
      id: groupOpaqueId('lab'),
      removedJobs: ['j-3'],
    });
    expect(await h.ctx.groups.get('lab')).toBeUndefined();
    expect((await h.ctx.store.getJob('j-3'))?.options.groups).toEqual([]);
    expect((await refusal(del(lab))).code).toBe(DcpErrorCode.ENOENT);
  });

  it('takeJobOut (REST): asks the group and job owners, ENOENT when the job is not in the group', async () => {
    await create({ joinDescriptor: { joinKey: 'lab', joinHash: labHash } });
    await jobIn('j-4', ['lab', 'public']);
    const asked: (string | undefined)[][] = [];
    const refuse = (owners: (string | undefined)[]) => {
      asked.push(owners);
      throw Object.assign(new Error('no'), { code: 'EPERM' });
    };
    await expect(h.core.groupAdmin.takeJobOut('lab', 'j-4', refuse)).rejects.toMatchObject({ code: 'EPERM' });
    expect(asked).toEqual([[owner, client]]);
    expect((await h.ctx.store.getJob('j-4'))?.options.groups).toEqual(['lab', 'public']);
    expect(await h.core.groupAdmin.takeJobOut('lab', 'j-4', () => {})).toEqual({
      job: 'j-4',
      groups: ['public'],
    });
    expect((await refusal(h.core.groupAdmin.takeJobOut('lab', 'j-4', () => {}))).code).toBe(
      DcpErrorCode.ENOENT,
    );
    expect((await refusal(h.core.groupAdmin.takeJobOut('lab', 'nope', () => {}))).code).toBe(
      DcpErrorCode.ENOENT,
    );
  });
});
