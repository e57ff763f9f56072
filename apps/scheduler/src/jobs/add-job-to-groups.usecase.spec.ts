import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupOpaqueId } from '../groups/membership';
import { eh1, joinHash } from '../tasks/matching';
import { openHarness, rangeJob, refusal, type UseCaseHarness, viaRegistry } from '../usecase-harness.test';
import { addJobToGroupsSchema } from './add-job-to-groups.usecase';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = '0x2222222222222222222222222222222222222222';
const dcpsid = 'D'.repeat(42);
const labHash = joinHash('lab', 'secret');

describe('AddJobToGroups (SQLite job store and group registry)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.groupAdmin.create({ joinDescriptor: { joinKey: 'lab', joinHash: labHash } }, stranger);
    await h.core.submit.execute(rangeJob('j-pub', payer, 2), client, 5, true);
    await h.core.submit.execute(rangeJob('j-lab', payer, 2), client, 5, true);
  });
  afterAll(() => h?.close());

  const add = (data: unknown, peer = client, sid: string | undefined = dcpsid) =>
    viaRegistry(addJobToGroupsSchema, data, (d) => h.core.addJobToGroups.execute(d, peer, sid));
  const groupsOf = async (id: string) => (await h.ctx.store.getJob(id))?.options.groups;

  it('puts a job in the public group when no group is named', async () => {
    expect(await groupsOf('j-pub')).toEqual([]);
    expect(await add({ job: 'j-pub' })).toEqual({ success: true, groups: ['public'] });
    expect(await groupsOf('j-pub')).toEqual(['public']);
  });

  it('puts a job in a private group proved on the caller session, named by joinKey or opaque id', async () => {
    const proof = eh1(dcpsid + labHash);
    expect(await add({ job: 'j-lab', cgArray: [{ joinKey: 'lab', joinHashHash: proof }] })).toEqual({
      success: true,
      groups: ['lab'],
    });
    expect(await groupsOf('j-lab')).toEqual(['lab']);
    const byId = [{ id: groupOpaqueId('lab'), joinHashHash: proof }, { joinKey: 'public' }];
    expect(await add({ job: 'j-lab', cgArray: byId })).toEqual({ success: true, groups: ['lab', 'public'] });
    expect(await groupsOf('j-lab')).toEqual(['lab', 'public']);
  });

  it('refuses bad input (EINVAL), a stranger (EPERM), an unknown job (ENOENT), an unproved or unknown group (EGROUP); groups unchanged', async () => {
    const proof = eh1(dcpsid + labHash);
    const cases: [unknown, string, string?, string?][] = [
      [{ cgArray: [] }, DcpErrorCode.EINVAL],
      [{ job: 'j-lab', cgArray: 'lab' }, DcpErrorCode.EINVAL],
      [{ job: 'j-lab', cgArray: [{ joinKey: 5 }] }, DcpErrorCode.EINVAL],
      [{ job: 'j-lab' }, DcpErrorCode.EPERM, stranger],
      [{ job: 'nope' }, DcpErrorCode.ENOENT],
      [{ job: 'j-lab', cgArray: [{ joinKey: 'lab', joinHashHash: 'eh1-forged' }] }, DcpErrorCode.EGROUP],
      [{ job: 'j-lab', cgArray: [{ joinKey: 'lab' }] }, DcpErrorCode.EGROUP],
      // a proof from another session does not count
      [
        { job: 'j-lab', cgArray: [{ joinKey: 'lab', joinHashHash: proof }] },
        DcpErrorCode.EGROUP,
        client,
        'X'.repeat(42),
      ],
      [{ job: 'j-lab', cgArray: [{ joinKey: 'nogroup', joinHashHash: proof }] }, DcpErrorCode.EGROUP],
      [{ job: 'j-lab', cgArray: [{ id: 'unknown-opaque-id' }] }, DcpErrorCode.EGROUP],
    ];
    for (const [data, code, peer, sid] of cases)
      expect((await refusal(add(data, peer ?? client, sid ?? dcpsid))).code, JSON.stringify(data)).toBe(code);
    expect(await groupsOf('j-lab')).toEqual(['lab', 'public']);
    expect(await groupsOf('j-pub')).toEqual(['public']);
  });
});
