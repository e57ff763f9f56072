import { systemClock } from '@dcp-emu/protocol/node';
import { jobDetail, jobList, resultList, sliceList, workerList } from '@dcp-emu/contracts';
import { type Database, openDatabase } from '@dcp-emu/db';
import {
  cryptoRandom,
  DcpError,
  DcpErrorCode,
  getDefaultCrypto,
  Identity,
  silentLogger,
  toChecksumAddress,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { NoEscrow } from '../escrow/escrow';
import { EventRouter } from '../events/event-router';
import { ComputeGroups } from '../groups/compute-groups.usecase';
import { storeKvinInput } from '../jobs/job-input';
import type { NewJob } from '../state/job-store';
import { openSchedulerState } from '../state/open-state';
import { ListJobs } from './list-jobs.usecase';
import { ListWorkers } from './list-workers.usecase';
import { ReadJob } from './read-job.usecase';
import { SendSchedMsg } from './send-schedmsg.usecase';

/**
 * The inspection API's use cases (what `GET/POST/DELETE /api/…` answer) against the scheduler's real
 * job store on a SQLite file; every answer is also checked with its contract (@dcp-emu/contracts).
 */

const owner = Identity.random().address;
const payer = Identity.random().address;
const stranger = Identity.random().address;
const t0 = new Date('2026-01-01T00:00:00Z');

function newJob(id: string, over: Partial<NewJob> = {}): NewJob {
  return {
    id,
    owner,
    paymentAccount: payer,
    generation: 5,
    inputClosed: false,
    inputKind: 'array',
    sliceCount: 0,
    workFunctionUri: 'data:,x=>x',
    arguments: [],
    requirements: 64,
    public: { name: `job ${id}`, description: '', link: '' },
    options: {
      dependencies: [],
      requirePath: [],
      worktime: { name: 'map-basic', version: '^1.0.0' },
      localExec: false,
      workerConsole: false,
      discrete: false,
      useStrict: false,
      groups: ['public'],
    },
    absolutePayment: 0,
    mvMultiplier: 1,
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<DcpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DcpError) return e;
    throw e;
  }
  throw new Error('expected a DcpError');
}

describe('inspection use cases (SQLite job store)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let ctx: SchedulerContext;
  let core: SchedulerCore;
  let now = t0.getTime();

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    const state = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: silentLogger,
      leases: defaultTuning,
    });
    const clock = { ...systemClock, now: () => now };
    ctx = {
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
    const inputs = [1, 2, 3].map((n) => storeKvinInput(n, 5));
    await ctx.store.createJob(newJob('j-a'), t0, inputs);
    await ctx.store.createJob(
      newJob('j-b', { paymentAccount: stranger, owner: stranger }),
      new Date(now + 1000),
    );
  });
  afterAll(async () => {
    core?.stop();
    await db?.close();
    await tdb?.drop();
  });

  it('ListJobs: newest first with the total; beyond loopback a signer sees only what it deployed or pays for', async () => {
    const list = new ListJobs(ctx);
    const all = await list.execute({ limit: 10, offset: 0 }, { all: true });
    expect(jobList.parse(all).jobs.map((j) => j.id)).toEqual(['j-b', 'j-a']);
    expect(all.total).toBe(2);
    // any spelling of the payer's address finds its job
    const checksummed = toChecksumAddress(getDefaultCrypto(), payer);
    const paid = await list.execute(
      { account: checksummed.toLowerCase(), limit: 10, offset: 0 },
      { all: true },
    );
    expect(paid.jobs.map((j) => j.id)).toEqual(['j-a']);
    const mine = await list.execute({ limit: 10, offset: 0 }, { all: false, address: owner });
    expect(mine.jobs.map((j) => j.id)).toEqual(['j-a']);
    // asking for someone else's account as a signer lists nothing
    const theirs = await list.execute(
      { account: stranger, limit: 10, offset: 0 },
      { all: false, address: owner },
    );
    expect(theirs).toEqual({ jobs: [], total: 0 });
  });

  it('ReadJob: ENOENT for an unknown job; detail, slices, results and events of a known one', async () => {
    const read = new ReadJob(ctx);
    expect((await refusal(read.find('nope'))).code).toBe(DcpErrorCode.ENOENT);
    const job = await read.find('j-a');
    const detail = jobDetail.parse(await read.detail(job));
    expect(detail).toMatchObject({ id: 'j-a', totalSlices: 3, slices: { queued: 3, leased: 0, done: 0 } });
    ctx.store.leaseSlices('j-a', 1, 'w1', now);
    await ctx.store.recordResults(
      [
        {
          jobId: 'j-a',
          sliceNumber: 1,
          worker: 'w1',
          paymentAddress: stranger,
          result: { string: '"one"', method: 'json' },
          isError: false,
          cpuMs: 5,
          gpuMs: 0,
          bytesIn: 10,
          bytesOut: 5,
        },
      ],
      new Date(now),
    );
    const slices = sliceList.parse(await read.slices(job, { limit: 10 }));
    expect(slices.slices.map((s) => [s.sliceNumber, s.status, s.input])).toEqual([
      [1, 'done', 1],
      [2, 'queued', 2],
      [3, 'queued', 3],
    ]);
    expect(slices.slices[0]?.metering).toMatchObject({ cpuMs: 5, bytesIn: 10 });
    expect(resultList.parse(await read.results(job, { from: 1, limit: 10 })).results).toEqual([
      { sliceNumber: 1, isError: false, value: 'one' },
    ]);
    expect(await read.escrow(job)).toEqual({ escrow: null });
    // a stored (reliable) event and an optional one kept in memory, oldest first
    await ctx.store.addEvent('j-a', 'nofunds', { job: 'j-a' }, new Date(now + 10));
    now += 20;
    ctx.events.emit('j-a', 'console', { job: 'j-a', sliceNumber: 1, level: 'log', message: 'hi' });
    const events = (await read.events(job)).events;
    expect(events.map((e) => [e.name, e.stored, e.seq > 0])).toEqual([
      ['nofunds', true, true],
      ['console', false, false],
    ]);
  });

  it('ListWorkers: holders of leases appear with their slices', async () => {
    const workers = workerList.parse(await new ListWorkers(ctx, core.leases).execute()).workers;
    expect(workers.find((w) => w.worker === 'w1')).toBeUndefined(); // its only slice is done
    ctx.store.leaseSlices('j-a', 1, 'w2', now);
    const again = (await new ListWorkers(ctx, core.leases).execute()).workers;
    expect(again.find((w) => w.worker === 'w2')?.slices.map((s) => s.sliceNumber)).toEqual([2]);
  });

  it('SendSchedMsg: delivered to nobody when no worker subscribed', () => {
    expect(new SendSchedMsg(ctx).execute({ command: 'announce', payload: { message: 'hi' } })).toEqual({
      delivered: 0,
    });
  });

  it('CancelJob.byApi: asks who may first, cancels a running job once, ENOENT for none', async () => {
    const asked: string[][] = [];
    const refuse = (owners: string[]) => {
      asked.push(owners);
      throw new DcpError(DcpErrorCode.EPERM, 'not yours');
    };
    expect((await refusal(core.cancelJob.byApi('j-b', 'x', refuse))).code).toBe(DcpErrorCode.EPERM);
    expect(asked).toEqual([[stranger]]);
    expect((await ctx.store.getJob('j-b'))?.status).toBe('running');
    expect(await core.cancelJob.byApi('j-b', 'enough', () => {})).toEqual({ cancelled: true });
    expect(await core.cancelJob.byApi('j-b', 'again', () => {})).toEqual({ cancelled: false });
    expect((await refusal(core.cancelJob.byApi('nope', undefined, () => {}))).code).toBe(DcpErrorCode.ENOENT);
  });

  it('compute groups: listed with their jobs; a job taken out of a group; a group removed', async () => {
    const groups = new ComputeGroups(ctx);
    await groups.create({ joinKey: 'lab', joinSecret: 's', name: 'Lab', commissionRate: '0' });
    await ctx.store.setOptions(
      'j-a',
      { ...(await ctx.store.getJob('j-a'))!.options, groups: ['public', 'lab'] },
      new Date(now),
    );
    expect((await groups.listWithJobs()).groups.map((g) => [g.joinKey, g.jobs])).toEqual([['lab', ['j-a']]]);
    const owners: (string | undefined)[][] = [];
    expect(await core.groupAdmin.takeJobOut('lab', 'j-a', (o) => owners.push(o))).toEqual({
      job: 'j-a',
      groups: ['public'],
    });
    expect(owners).toEqual([[ctx.identity.address, owner]]);
    expect((await ctx.store.getJob('j-a'))?.options.groups).toEqual(['public']);
    expect((await refusal(core.groupAdmin.takeJobOut('lab', 'j-a', () => {}))).code).toBe(
      DcpErrorCode.ENOENT,
    );
    expect(await groups.remove('lab', () => {})).toEqual({ deleted: 'lab' });
    expect((await refusal(groups.remove('lab', () => {}))).code).toBe(DcpErrorCode.ENOENT);
  });
});
