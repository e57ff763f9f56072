import { type Database, openDatabase } from '@dcp-emu/db';
import {
  cryptoRandom,
  DcpError,
  DcpSession,
  Identity,
  kvinFor,
  silentLogger,
  VirtualClock,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { EventRouter } from '../events/event-router';
import { NoEscrow } from '../escrow/escrow';
import { openSchedulerState } from '../state/open-state';
import { eh1, joinHash } from '../tasks/matching';
import { ComputeGroups, createComputeGroupSchema } from './compute-groups.usecase';
import { groupOpaqueId, PUBLIC_GROUP } from './membership';

const client = Identity.random();
const worker = Identity.random();
const account = '0x2222222222222222222222222222222222222222';
const clientSid = `${'c'.repeat(21)}${'C'.repeat(21)}`;
const workerSid = `${'w'.repeat(21)}${'W'.repeat(21)}`;
const proof = (sid: string, key: string, secret: string | undefined) => eh1(sid + joinHash(key, secret));

async function refusal(p: Promise<unknown>): Promise<DcpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DcpError) return e;
    throw e;
  }
  throw new Error('expected a DcpError');
}

describe('compute-group registry, addJobToGroups and private-group matching (SQLite)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let core: SchedulerCore;
  let groups: ComputeGroups;
  let session: DcpSession;

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    const state = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: silentLogger,
      leases: defaultTuning,
    });
    const store = state.store;
    const clock = new VirtualClock({ frozenAt: Date.parse('2026-01-01T00:00:00Z') });
    const ctx: SchedulerContext = {
      ...state,
      events: new EventRouter(store, clock, cryptoRandom, silentLogger),
      clock,
      random: cryptoRandom,
      escrow: new NoEscrow(),
      identity: Identity.random(),
      logger: silentLogger,
      tuning: { ...defaultTuning, maxTaskSlices: 50 },
    };
    core = new SchedulerCore(ctx);
    groups = new ComputeGroups(ctx);
    session = new DcpSession({ role: 'target', identity: ctx.identity });
    session.dcpsid = workerSid;
  });
  afterAll(async () => {
    core?.stop();
    await db?.close();
    await tdb?.drop();
  });

  it('registers groups: the secret is hashed, a generated one is returned once, keys are unique', async () => {
    const given = await groups.create({
      joinKey: 'lab',
      joinSecret: 's3cret',
      name: 'Lab',
      commissionRate: '0.1',
    });
    expect(given.joinSecret).toBeUndefined();
    expect(given.group).toMatchObject({ joinKey: 'lab', name: 'Lab', commissionRate: '0.1' });
    expect((await core.ctx.groups.get('lab'))?.joinHash).toBe(joinHash('lab', 's3cret'));

    const made = await groups.create({
      joinKey: 'gen',
      name: 'Generated',
      commissionRate: '0',
      owner: account,
    });
    expect(made.joinSecret).toMatch(/^[A-Za-z0-9]{32}$/);
    expect((await core.ctx.groups.get('gen'))?.joinHash).toBe(joinHash('gen', made.joinSecret));
    expect(JSON.stringify(await groups.list())).not.toContain(made.joinSecret as string);
    expect((await groups.list()).map((g) => [g.joinKey, g.owner])).toEqual([
      ['lab', core.ctx.identity.address],
      ['gen', account],
    ]);

    const dup = await refusal(groups.create({ joinKey: 'lab', name: 'again', commissionRate: '0' }));
    expect(dup.code).toBe('EGROUP');
    expect(await groups.delete('gen')).toBe(true);
    expect(await groups.delete('gen')).toBe(false);
  });

  it('addJobToGroups checks the client proof with its own dcpsid; EGROUP leaves the job unchanged', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,x%3D%3Ex',
        job: 'job-lab',
        dataRange: { start: 1, end: 4, step: 1 },
        marshaledArguments: kvinFor(5).marshal([]),
        mvMultSlicePayment: 1,
      },
      client.address,
      5,
      true,
    );
    const add = (joinHashHash: string, joinKey = 'lab') =>
      core.addJobToGroups.execute(
        { job: 'job-lab', cgArray: [{ joinKey, joinHashHash }] },
        client.address,
        clientSid,
      );

    const wrong = await refusal(add(proof(clientSid, 'lab', 'guess')));
    expect(wrong.code).toBe('EGROUP');
    expect(wrong.message).toContain('wrong join secret');
    const replayed = await refusal(add(proof(workerSid, 'lab', 's3cret')));
    expect(replayed.code).toBe('EGROUP');
    const unknown = await refusal(add(proof(clientSid, 'nope', 'x'), 'nope'));
    expect(unknown.message).toContain('no compute group');
    expect((await core.ctx.store.getJob('job-lab'))?.options.groups).toEqual([]);

    expect(await add(proof(clientSid, 'lab', 's3cret'))).toEqual({ success: true, groups: ['lab'] });
    expect((await core.ctx.store.getJob('job-lab'))?.options.groups).toEqual(['lab']);
  });

  it('hands a private job only to workers verified for its group on their own session', async () => {
    const ask = (workerComputeGroups: { joinKey: string; joinHashHash: string }[]) =>
      core.requestTask.execute(
        { targetLoad: { cpu: 2 }, coreStats: { worker: 'w1' }, workerComputeGroups },
        worker.address,
        4,
        session,
      ) as Promise<{ body: { task?: Record<string, unknown[]> } }>;
    const publicOnly = [{ joinKey: 'public', joinHashHash: proof(workerSid, 'public', undefined) }];
    expect((await ask(publicOnly)).body.task?.['job-lab']).toBeUndefined();
    expect(
      (await ask([{ joinKey: 'lab', joinHashHash: proof(workerSid, 'lab', 'guess') }])).body.task,
    ).toBeUndefined();
    expect(
      (await ask([{ joinKey: 'lab', joinHashHash: proof(clientSid, 'lab', 's3cret') }])).body.task,
    ).toBeUndefined();
    const member = await ask([
      ...publicOnly,
      { joinKey: 'lab', joinHashHash: proof(workerSid, 'lab', 's3cret') },
    ]);
    expect(member.body.task?.['job-lab']).toHaveLength(2);
  });

  it('names groups by id / joinAddress as dcp-client 5.6.1 does without a joinKey', async () => {
    // a group joined as {id, joinAddress, joinSecret}: dcp-client salts its joinHash with the address
    const address = Identity.random().address;
    expect(createComputeGroupSchema.safeParse({ name: 'x', commissionRate: '0' }).success).toBe(false);
    expect(
      createComputeGroupSchema.safeParse({
        joinKey: 'k',
        joinAddress: address,
        name: 'x',
        commissionRate: '0',
      }).success,
    ).toBe(false);
    const made = await groups.create({
      joinAddress: address.toLowerCase(),
      joinSecret: 'pw',
      name: 'By address',
      commissionRate: '0',
    });
    const id = made.group.id;
    expect(made.group.joinKey).toBe(address); // stored under the EIP-55 form dcp's Address prints
    expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(id).toBe(groupOpaqueId(address));
    expect((await groups.list()).find((g) => g.joinKey === 'lab')?.id).toBe(groupOpaqueId('lab'));

    // buildCGJoinMessage({id, joinAddress, joinSecret}) → {id, joinAddress, joinHashHash}
    const joinHashHash = eh1(clientSid + eh1(`${address} pw`));
    expect(await groups.verifyClaim({ id, joinAddress: address, joinHashHash }, clientSid)).toBe(address);
    expect(await groups.verifyClaim({ id, joinHashHash }, clientSid)).toBe(address);
    expect(await groups.verifyClaim({ joinAddress: address.toLowerCase(), joinHashHash }, clientSid)).toBe(
      address,
    );
    const wrong = eh1(clientSid + eh1(`${address} guess`));
    expect(
      (await refusal(groups.verifyClaim({ id, joinAddress: address, joinHashHash: wrong }, clientSid))).code,
    ).toBe('EGROUP');
    // {id, joinAddress} alone (a descriptor with only a joinKeystore) proves nothing
    expect((await refusal(groups.verifyClaim({ id, joinAddress: address }, clientSid))).code).toBe('EGROUP');
    expect(
      (await refusal(groups.verifyClaim({ id: 'unknownGroupId00000000', joinHashHash }, clientSid))).code,
    ).toBe('EGROUP');
    // the public group's own descriptor (dcp-client sends it as is)
    const publicDescriptor = { ...PUBLIC_GROUP, name: 'Public Compute Group (open access)', joinHash: '' };
    expect(await groups.verifyClaim(publicDescriptor, clientSid)).toBe('public');
    expect(
      await groups.verifyClaim(
        { joinKey: 'lab', joinHashHash: proof(clientSid, 'lab', 's3cret') },
        clientSid,
      ),
    ).toBe('lab');
  });
});
