import { type Database, openDatabase } from '@dcp-emu/db';
import {
  cryptoRandom,
  DcpSession,
  Identity,
  jobValue,
  kvinFor,
  silentLogger,
  VirtualClock,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { EventRouter } from '../events/event-router';
import { NoEscrow } from '../escrow/escrow';
import { openSchedulerState } from '../state/open-state';
import { CAPABILITY_BITS, eh1, joinHash } from './matching';

const client = Identity.random();
const workerId = Identity.random();
const account = '0x2222222222222222222222222222222222222222';

interface Task {
  owner: string;
  signature: unknown;
  auth: { authSlices: Record<string, number[]> };
  body: {
    newJobs?: Record<string, { argumentsLocation: { value: string }[]; codeLocation: string }>;
    task?: Record<string, { sliceNumber: number; datumUri: string }[]>;
  };
}

describe('requestTask → result → stop (use cases over SQLite)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let core: SchedulerCore;
  let session: DcpSession;
  let events: EventRouter;
  const clock = new VirtualClock({ frozenAt: Date.parse('2026-01-01T00:00:00Z') });

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
    events = new EventRouter(store, clock, cryptoRandom, silentLogger);
    const ctx: SchedulerContext = {
      ...state,
      events,
      clock,
      random: cryptoRandom,
      escrow: new NoEscrow(),
      identity: Identity.random(),
      logger: silentLogger,
      tuning: { ...defaultTuning, maxTaskSlices: 50 },
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

  const publicGroup = () => [{ joinKey: 'public', joinHashHash: eh1(session.dcpsid + joinHash('public')) }];
  const ask = (extra: Record<string, unknown> = {}, generation: 4 | 5 = 4) =>
    core.requestTask.execute(
      { targetLoad: { cpu: 2 }, coreStats: { worker: 'w1' }, workerComputeGroups: publicGroup(), ...extra },
      workerId.address,
      generation,
      session,
    ) as Promise<Task>;
  /** the slices of `job` a task leased (5.x workers get `{}` when there is no work) */
  const slicesOf = (task: Partial<Task>, job: string) => task.auth?.authSlices?.[job] ?? [];

  it('hands a range job to a worker that proved public-group membership, sized to its cores', async () => {
    const k = kvinFor(5);
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x,a)%3D%3Ex*a',
        job: 'job-range',
        dataRange: { start: 1, end: 10, step: 1 },
        marshaledArguments: k.marshal([jobValue.encode(3, 5)]),
        mvMultSlicePayment: 1,
      },
      client.address,
      5,
      true,
    );
    // until the client names the job's compute groups (dcp-client does right after submit), nobody gets it
    expect((await ask({ capabilities: {}, minimumWage: { CPU: 0 } })).body).toEqual({});
    await core.addJobToGroups.execute({ job: 'job-range', cgArray: [] }, client.address, 'client-dcpsid');
    expect(
      (await ask({ workerComputeGroups: [{ joinKey: 'public', joinHashHash: 'eh1-forged' }] })).body,
    ).toEqual({});
    expect((await ask({ rejectedJobs: ['job-range'] })).body).toEqual({});
    expect((await ask({ jobAddresses: ['other'] })).body).toEqual({});
    expect((await ask({ capabilities: {}, minimumWage: { CPU: 0 } })).body.task?.['job-range']).toHaveLength(
      2,
    );
    const task = await ask();
    const slices = task.body.task?.['job-range'] ?? [];
    expect(slices.map((s) => s.sliceNumber)).toEqual([3, 4]);
    expect(slices[0]?.datumUri).toBe('data:application/json,3');
    const job = task.body.newJobs?.['job-range'];
    expect(job?.codeLocation).toBe('data:,(x,a)%3D%3Ex*a');
    expect(decodeURI(job?.argumentsLocation[0]?.value ?? '')).toContain('"_serializeVerId":"v8"');

    // the worker is listed as connected, with what it said and the groups it proved
    const [seen] = core.leases.connected();
    expect(seen).toMatchObject({
      worker: `${workerId.address.toLowerCase()}/w1`,
      address: workerId.address,
      connected: true,
      groups: ['public'],
    });
  });

  it('accepts results carrying our authorization, refuses forged ones, finishes the job with stop', async () => {
    // a worker takes everything that is left
    const all: Task[] = [await ask({ targetLoad: { cpu: 64 } })];
    const leased = (await core.ctx.store.slices('job-range')).filter((s) => s.status === 'leased');
    expect(leased).toHaveLength(10);
    const firstTask = await core.ctx.store.slices('job-range', { numbers: [1] });
    expect(firstTask[0]?.leaseWorker).toBe(`${workerId.address.toLowerCase()}/w1`);
    const bigTask = all[0] as Task;
    const authFor = (task: Task) => ({ owner: task.owner, signature: task.signature, auth: task.auth });
    const send = (slice: number, task: Task, value = slice * 3) =>
      core.submitResult.execute(
        {
          slice,
          job: 'job-range',
          worker: 'w1',
          paymentAddress: account,
          metrics: { CPUTime: 4, InDataSize: 10, OutDataSize: 20 },
          authorizationMessage: authFor(task),
          resultV2: kvinFor(4).marshal(jobValue.encode(value, 4)),
        },
        workerId.address,
      );
    await expect(send(1, { ...bigTask, signature: { r: [1], s: [2], v: 27 } })).rejects.toMatchObject({
      code: 'EPERM',
    });
    // slices 1 and 2 were handed out in earlier tasks, 3.. in this one: only listed slices are accepted
    await expect(send(1, bigTask)).rejects.toMatchObject({ code: 'EPERM' });
    const numbers = bigTask.auth.authSlices['job-range'] ?? [];
    const replies = await Promise.all(numbers.map((n) => send(n, bigTask)));
    expect(replies[0]).toMatchObject({ slicePaymentAmount: '0', metrics: { sliceCPUTime: 4 } });
    expect((await core.ctx.store.getJob('job-range'))?.status).toBe('running');
    // slice 1's refused result put it back in the queue at once; the earlier tasks' other slices are
    // re-queued when their leases expire, and all are handed out again
    expect(await core.ctx.store.sliceCounts('job-range')).toMatchObject({ queued: 1, leased: 3 });
    await clock.advance(defaultTuning.leaseMs + 1);
    expect(core.leases.sweep()).toBe(3);
    const again = await ask();
    const rest = again.auth.authSlices['job-range'] ?? [];
    await Promise.all(rest.map((n) => send(n, again)));
    await core.submitResult.idle();
    const job = await core.ctx.store.getJob('job-range');
    expect(job).toMatchObject({ status: 'finished', completedCount: 10, cpuMs: 40, bytesOut: 200 });
    const events = await core.ctx.store.events('job-range');
    expect(events.map((e) => [e.name, e.data.runStatus, e.data.sliceCount])).toEqual([
      ['stop', 'finished', 10],
    ]);
    // a late duplicate is answered and ignored
    await expect(send(5, bigTask, 999)).resolves.toMatchObject({ slicePaymentAmount: '0' });
    expect((await core.ctx.store.slices('job-range', { numbers: [5] }))[0]?.result?.string).toBe(
      kvinFor(4).serialize(15),
    );
  });

  it('matches 5.x capability masks: a GPU job goes only to workers reporting webgpu, 4.x or 5.x', async () => {
    const { environment, engine, KVINv9 } = CAPABILITY_BITS;
    // dcp-client 5.6.1: requirements = capabilities.toBits(job.requirements) + KVINv9
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x)%3D%3Ex',
        job: 'job-gpu',
        dataRange: { start: 1, end: 3, step: 1 },
        requirements: environment.webgpu | KVINv9,
      },
      client.address,
      5,
      true,
    );
    await core.addJobToGroups.execute({ job: 'job-gpu', cgArray: [] }, client.address, 'client-dcpsid');
    const one = { targetLoad: { cpu: 1 } };
    const cpuOnly5 = engine.v8 | environment.fdlibm | KVINv9;
    const cpuOnly4 = {
      engine: { es7: false, spidermonkey: false },
      environment: { webgpu: false, fdlibm: true },
    };
    expect(slicesOf(await ask({ ...one, capabilities: cpuOnly5 }, 5), 'job-gpu')).toEqual([]);
    expect(slicesOf(await ask({ ...one, capabilities: cpuOnly4 }), 'job-gpu')).toEqual([]);
    expect(slicesOf(await ask({ ...one }), 'job-gpu')).toEqual([]);
    // a 5.x worker without KVINv9 does not get a job that needs it
    expect(
      slicesOf(await ask({ ...one, capabilities: engine.v8 | environment.webgpu }, 5), 'job-gpu'),
    ).toEqual([]);

    const gpu5 = await ask({ ...one, capabilities: cpuOnly5 | environment.webgpu }, 5);
    expect(slicesOf(gpu5, 'job-gpu')).toEqual([1]);
    const gpu4 = await ask({ ...one, capabilities: { ...cpuOnly4, environment: { webgpu: true } } });
    expect(slicesOf(gpu4, 'job-gpu')).toEqual([2]);
    // the 4.x sandbox is told to expose WebGPU
    const job = gpu4.body.newJobs?.['job-gpu'] as unknown as {
      requirements: unknown;
      needCapabilities: number;
    };
    expect(job.requirements).toMatchObject({ environment: { webgpu: true } });
    expect(job.needCapabilities).toBe(environment.webgpu | KVINv9);
  });

  it('matches 4.x requirement trees against 5.x capability masks', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        id: 'job-canvas-4',
        workFunctionURI: 'data:,(x)%3D%3Ex',
        dataRange: { start: 1, end: 1, step: 1 },
        requirements: { environment: { offscreenCanvas: true }, engine: { es7: false }, discrete: false },
      },
      client.address,
      4,
      true,
    );
    const id = (await core.ctx.store.runnableJobs()).find((j) => j.id !== 'job-gpu')?.id ?? '';
    expect(id).not.toBe('');
    await core.addJobToGroups.execute({ job: id, cgArray: [] }, client.address, 'client-dcpsid');
    const { environment, engine, KVINv9 } = CAPABILITY_BITS;
    const one = { targetLoad: { cpu: 1 }, jobIds: [id] };
    expect(slicesOf(await ask({ ...one, capabilities: engine.v8 | KVINv9 }, 5), id)).toEqual([]);
    const task = await ask({ ...one, capabilities: engine.v8 | environment.offscreenCanvas | KVINv9 }, 5);
    expect(slicesOf(task, id)).toEqual([1]);
  });

  it('a slice returned with ENOPROGRESS tells the client once (noprogress); a refused result goes back to the queue', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x)%3D%3Ex',
        job: 'job-np',
        dataRange: { start: 1, end: 3, step: 1 },
      },
      client.address,
      5,
      true,
    );
    await core.addJobToGroups.execute({ job: 'job-np', cgArray: [] }, client.address, 'client-dcpsid');
    const task = await ask({ targetLoad: { cpu: 3 }, jobIds: ['job-np'] });
    expect(slicesOf(task, 'job-np')).toEqual([1, 2, 3]);
    const authorizationMessage = { owner: task.owner, signature: task.signature, auth: task.auth };
    const ret = (slice: number) =>
      core.sliceStatus.execute(
        {
          worker: 'w1',
          slices: [
            {
              sliceNumbers: [slice],
              job: 'job-np',
              authorizationMessage,
              status: 'return',
              reason: 'ENOPROGRESS',
            },
          ],
        },
        workerId.address,
        session,
      );
    // our worker only returns the slice: the scheduler tells the client
    await ret(1);
    // dcp-worker tells the client itself (workEmit noProgress), then returns the slice: told once
    await core.workEmit.execute({
      eventName: 'noProgress',
      payload: { timestamp: 1 },
      job: 'job-np',
      slice: 2,
    });
    await ret(2);
    const told = core.ctx.events.recent('job-np').filter((e) => e.name === 'noprogress');
    expect(told.map((e) => e.data.sliceNumber)).toEqual([1, 2]);
    expect(core.ctx.store.maxSliceErrors('job-np')).toBe(1);
    // an unreadable result is refused and its slice is queued again at once, not after the lease
    await expect(
      core.submitResult.execute(
        { slice: 3, job: 'job-np', worker: 'w1', authorizationMessage },
        workerId.address,
      ),
    ).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await core.ctx.store.sliceCounts('job-np')).toEqual({ queued: 3, leased: 0, done: 0 });
  });

  it('cancels a localExec job whose client went away (no subscriber, no lease) after the abandon period', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x)%3D%3Ex',
        job: 'job-local',
        dataRange: { start: 1, end: 2, step: 1 },
        localExec: true,
      },
      client.address,
      5,
      true,
    );
    expect(await core.abandoned.sweep()).toBe(0); // unattended from now on
    await clock.advance(defaultTuning.localExecAbandonMs - 1);
    expect(await core.abandoned.sweep()).toBe(0);
    await clock.advance(2);
    expect(await core.abandoned.sweep()).toBe(1);
    const job = await core.ctx.store.getJob('job-local');
    expect(job).toMatchObject({ status: 'cancelled', cancelCode: 'ECANCELLED' });
    expect(job?.cancelReason).toMatch(/localExec client went away/);
  });

  it('runs lease expiry on the virtual clock: a lease holds while time stands, advancing past it re-queues at once', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x)%3D%3Ex',
        job: 'job-vt',
        dataRange: { start: 1, end: 2, step: 1 },
      },
      client.address,
      5,
      true,
    );
    await core.addJobToGroups.execute({ job: 'job-vt', cgArray: [] }, client.address, 'client-dcpsid');
    expect(slicesOf(await ask({ jobIds: ['job-vt'] }), 'job-vt')).toHaveLength(2);
    core.leases.start(); // the sweeper, on the context's clock
    try {
      await new Promise((r) => setTimeout(r, 2 * defaultTuning.sweepMs)); // real time passes: nothing moves
      expect(await core.ctx.store.sliceCounts('job-vt')).toMatchObject({ leased: 2, queued: 0 });
      await clock.advance(defaultTuning.leaseMs - 1_000);
      expect(await core.ctx.store.sliceCounts('job-vt')).toMatchObject({ leased: 2, queued: 0 });
      const { fired } = await clock.advance(2_000); // the sweeper fires within the span: no sweep() by hand
      expect(fired).toBeGreaterThan(0);
      expect(await core.ctx.store.sliceCounts('job-vt')).toMatchObject({ leased: 0, queued: 2 });
    } finally {
      core.leases.stop();
    }
  });

  it('brakes a job whose client is behind on its events: no slices until the backlog drops', async () => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,x%3D%3Ex',
        job: 'job-brake',
        dataRange: { start: 1, end: 4, step: 1 },
        marshaledArguments: kvinFor(5).marshal([]),
        mvMultSlicePayment: 1,
      },
      client.address,
      5,
      true,
    );
    await core.addJobToGroups.execute({ job: 'job-brake', cgArray: [] }, client.address, 'client-dcpsid');
    const only = { jobAddresses: ['job-brake'] };
    const behind = vi
      .spyOn(events, 'backlog')
      .mockImplementation((id) => (id === 'job-brake' ? defaultTuning.maxEventBacklog : 0));
    expect(slicesOf(await ask(only, 5), 'job-brake')).toEqual([]);
    behind.mockImplementation(() => defaultTuning.maxEventBacklog - 1);
    expect(slicesOf(await ask(only, 5), 'job-brake').length).toBeGreaterThan(0);
    behind.mockRestore();
  });
});
