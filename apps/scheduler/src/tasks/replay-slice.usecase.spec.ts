import { systemClock } from '@dcp-emu/protocol/node';
import { type Database, openDatabase } from '@dcp-emu/db';
import { cryptoRandom, DcpSession, Identity, jobValue, kvinFor, silentLogger } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { EventRouter } from '../events/event-router';
import { NoEscrow } from '../escrow/escrow';
import { openSchedulerState } from '../state/open-state';
import type { JobRecord } from '../state/job-store';
import { eh1, joinHash } from './matching';

const client = Identity.random();
const worker = Identity.random();
const account = '0x2222222222222222222222222222222222222222';

describe('replay bundle of one slice (use cases over SQLite)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let core: SchedulerCore;
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
    const clock = { ...systemClock, now: () => Date.parse('2026-01-01T00:00:00Z') };
    const ctx: SchedulerContext = {
      ...state,
      events: new EventRouter(state.store, clock, cryptoRandom, silentLogger),
      clock,
      random: cryptoRandom,
      escrow: new NoEscrow(),
      identity: Identity.random(),
      logger: silentLogger,
      tuning: defaultTuning,
    };
    core = new SchedulerCore(ctx);
    session = new DcpSession({ role: 'target', identity: ctx.identity });
    session.dcpsid = 'S'.repeat(42);
  });
  afterAll(async () => {
    core?.stop();
    await db?.close();
    await tdb?.drop();
  });

  it('gives the work function, datum, arguments and held modules, and the recorded result', async () => {
    const k = kvinFor(5);
    await core.packages.deploy(
      { name: 'mathpkg', version: '1.0.0', files: { 'square.js': 'exports.sq = (x) => x * x;' } },
      client.address,
    );
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x%2Ca)%3D%3Ex*a',
        job: 'job-r',
        dataRange: { start: 1, end: 5, step: 1 },
        marshaledArguments: k.marshal([jobValue.encode(3, 5)]),
        dependencies: ['mathpkg/square', 'elsewhere/thing'],
      },
      client.address,
      5,
      true,
    );
    await core.addJobToGroups.execute({ job: 'job-r', cgArray: [] }, client.address, 'client-dcpsid');
    const job = (await core.ctx.store.getJob('job-r')) as JobRecord;

    const queued = await core.replay.execute(job, 2);
    expect(queued).toMatchObject({
      job: 'job-r',
      sliceNumber: 2,
      workFunctionUri: 'data:,(x%2Ca)%3D%3Ex*a',
      datumUri: 'data:application/json,2',
      dependencies: ['mathpkg/square', 'elsewhere/thing'],
      modules: { mathpkg: { square: 'exports.sq = (x) => x * x;' } },
      recorded: { status: 'queued', result: null, isError: false },
    });
    expect(queued.argumentUris).toHaveLength(1);

    // a worker computes slice 2: the bundle carries its result
    const task = (await core.requestTask.execute(
      {
        targetLoad: { cpu: 2 },
        coreStats: { worker: 'w' },
        workerComputeGroups: [{ joinKey: 'public', joinHashHash: eh1(session.dcpsid + joinHash('public')) }],
      },
      worker.address,
      4,
      session,
    )) as { owner: string; signature: unknown; auth: { authSlices: Record<string, number[]> } };
    expect(task.auth.authSlices['job-r']).toContain(2);
    await core.submitResult.execute(
      {
        slice: 2,
        job: 'job-r',
        worker: 'w',
        paymentAddress: account,
        metrics: { CPUTime: 1 },
        authorizationMessage: { owner: task.owner, signature: task.signature, auth: task.auth },
        resultV2: kvinFor(4).marshal(jobValue.encode(6, 4)),
      },
      worker.address,
    );
    await core.submitResult.idle();
    expect((await core.replay.execute(job, 2)).recorded).toMatchObject({ status: 'done', result: 6 });

    await expect(core.replay.execute(job, 9)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(core.replay.execute(job, 0)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
