import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity } from '@dcp-emu/protocol/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eh1 } from '@dcp-emu/worker-core';
import { discoverScheduler, loadOrCreateWorkerId } from './discovery';
import { Supervisor, type SupervisorOptions } from './supervisor';
import {
  freePort,
  startEvaluatorAt,
  startTestScheduler,
  type TestEvaluator,
  type TestScheduler,
} from '../../test-support';

const payee = Identity.random().address;

/** A work function that keeps the sandbox busy for `ms` (reporting progress) and returns datum×2. */
const busy = (ms: number) =>
  `async function (x) { const t = Date.now(); while (Date.now() - t < ${ms}) {} progress(1); console.log('slice', x); return x * 2; }`;

describe('Supervisor against a scheduler double and a real evaluator', () => {
  let evaluator: TestEvaluator;
  let port: number;
  let scheduler: TestScheduler | undefined;
  let supervisor: Supervisor | undefined;

  beforeAll(async () => {
    port = await freePort();
    evaluator = await startEvaluatorAt(port);
  }, 60_000);

  afterAll(async () => {
    await evaluator?.stop();
  });

  afterEach(async () => {
    await supervisor?.stop(true);
    supervisor = undefined;
    await scheduler?.stop();
    scheduler = undefined;
  });

  async function start(
    overrides: Partial<SupervisorOptions> = {},
    sched: Parameters<typeof startTestScheduler>[0] = {},
  ) {
    scheduler = await startTestScheduler(sched);
    const found = await discoverScheduler(scheduler.base);
    supervisor = new Supervisor({
      identity: Identity.random(),
      services: found.services,
      schedulerOrigin: scheduler.base,
      evaluator: { host: '127.0.0.1', port },
      paymentAddress: payee,
      workerId: 'abcdefghijklmnopqrstuv',
      maxSandboxes: 2,
      watchdogIntervalMs: 200,
      ...overrides,
    });
    return { scheduler, supervisor };
  }

  it('discovers the services from /etc/dcp-config.kvin and keeps a stable worker id', async () => {
    const s = await startTestScheduler({ watchdogIntervalSeconds: 0.25 });
    try {
      const found = await discoverScheduler(s.base);
      expect(found.watchdogIntervalMs).toBe(250);
      expect(found.services.taskDistributor.href).toBe(`${s.base}/task-distributor/`);
      expect(found.services.resultSubmitter.href).toBe(`${s.base}/result-submitter/`);
      expect(found.services.eventRouter.href).toBe(`${s.base}/event-router/`);
      expect(found.services.packageManager?.href).toBe(`${s.base}/package-manager/`);
    } finally {
      await s.stop();
    }
    const file = join(mkdtempSync(join(tmpdir(), 'wid-')), 'workerId');
    const id = loadOrCreateWorkerId(file);
    expect(id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(loadOrCreateWorkerId(file)).toBe(id);
    expect(readFileSync(file, 'utf8').trim()).toBe(id);
  });

  it('computes a job: requestTask@3, status begin, workEmit console, results as job values with metrics', async () => {
    const { scheduler, supervisor } = await start({
      computeGroups: [{ joinKey: 'g1', joinSecret: 'pw' }],
      statusBegin: 'slice',
    });
    scheduler.addJob({
      jobId: 'job1',
      workFunction: 'async function (x, k) { progress(0.5); console.log("slice", x); return x * k; }',
      arguments: [3],
      argumentsOverHttp: true,
      data: [1, 2, 3, 4, 5],
    });
    const payments: number[] = [];
    const allPaid = new Promise<void>((resolve) =>
      supervisor.on('result', (_s, info) => {
        payments.push(info.payment);
        if (payments.length === 5) resolve();
      }),
    );
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 5, 30_000, '5 results');
    await allPaid;
    const bySlice = Object.fromEntries(scheduler.results.map((r) => [r.slice, r.value]));
    expect(bySlice).toEqual({ 1: 3, 2: 6, 3: 9, 4: 12, 5: 15 });
    for (const r of scheduler.results) {
      expect(r.paymentAddress).toBe(payee);
      expect(r.worker).toBe('abcdefghijklmnopqrstuv');
      expect(r.metrics).toMatchObject({ GPUTime: 0, GPUDensity: 0 });
      expect(r.metrics.CPUTime).toBeGreaterThanOrEqual(0);
      expect(r.metrics.InDataSize).toBeGreaterThan(0);
      expect(r.metrics.OutDataSize).toBeGreaterThan(0);
    }
    expect(payments).toEqual([0.25, 0.25, 0.25, 0.25, 0.25]);
    expect(supervisor.earned).toBeCloseTo(1.25);
    expect(scheduler.begins.map((b) => b.sliceNumber).sort()).toEqual([1, 2, 3, 4, 5]);
    await scheduler.until(() => scheduler.workEmits.length >= 5, 10_000, 'console events');
    expect(scheduler.workEmits[0]).toMatchObject({ eventName: 'console', job: 'job1' });

    const first = scheduler.requests.find((r) => r.operation === 'requestTask@3')?.data;
    expect(first).toMatchObject({
      fetchState: 5,
      paymentAddress: payee,
      jobIds: [],
      coreStats: { worker: 'abcdefghijklmnopqrstuv' },
    });
    expect((first?.returnAllSlices as { body?: unknown } | undefined)?.body).toEqual({
      id: 'abcdefghijklmnopqrstuv',
    });
    expect(Number(first?.capabilities) & (1 << 6)).toBeTruthy();
    const dcpsid = supervisor.td.session?.dcpsid ?? '';
    expect(first?.workerComputeGroups).toEqual([
      { joinKey: 'g1', joinHashHash: eh1(dcpsid + eh1('g1 pw')) },
      { joinKey: 'public', joinHashHash: eh1(dcpsid + eh1('public undefined')) },
    ]);
    const later = scheduler.requests.filter((r) => r.operation === 'requestTask@3').at(-1)?.data;
    expect(later?.fetchState).toBe(1);
    expect(scheduler.returns).toEqual([]);
  }, 60_000);

  it('reports a throwing work function as an Error result (EUNCAUGHT) plus a workEmit error', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    scheduler.addJob({
      jobId: 'job2',
      workFunction: 'function (x) { progress(); throw new RangeError("bad slice " + x); }',
      data: [7],
    });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 1, 20_000, 'error result');
    const value = scheduler.results[0]?.value as Error & { errorCode?: string };
    expect(value).toBeInstanceOf(Error);
    expect(value.message).toBe('bad slice 7');
    expect(value.errorCode).toBe('EUNCAUGHT');
    await scheduler.until(
      () => scheduler.workEmits.some((e) => e.eventName === 'error'),
      10_000,
      'error event',
    );
    expect(scheduler.workEmits.find((e) => e.eventName === 'error')).toMatchObject({
      job: 'job2',
      slice: 1,
      payload: { code: 'EUNCAUGHT', name: 'RangeError' },
    });
  }, 30_000);

  it('resolves job modules through the package manager (fetchModuleURL) for require()', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    scheduler.addModule(
      'mypkg/mymod',
      'module.declare([], function (require, exports) { exports.f = (x) => x * 10; });',
    );
    scheduler.addJob({
      jobId: 'jobM',
      workFunction: 'function (x) { progress(1); return require("mypkg/mymod").f(x); }',
      dependencies: ['mypkg/mymod'],
      data: [4],
    });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 1, 20_000, 'module result');
    expect(scheduler.results[0]?.value).toBe(40);
    expect(scheduler.requests.find((r) => r.operation === 'fetchModuleURL')?.data).toEqual({
      modules: ['mypkg/mymod'],
    });
  }, 30_000);

  it('keeps sandboxes for reuse by their job but never more than maxSandboxes open', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    const counts: number[] = [];
    supervisor.on('sandboxes', (s) => counts.push(s.open));
    for (const id of ['jobA', 'jobB', 'jobC'])
      scheduler.addJob({ jobId: id, workFunction: 'function (x) { progress(1); return x; }', data: [1, 2] });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 6, 30_000, '6 results');
    expect(Math.max(...counts)).toBeLessThanOrEqual(1);
    expect(supervisor.openSandboxes).toBeLessThanOrEqual(1);
  }, 40_000);

  it('returns a slice whose work function never calls progress() (ENOPROGRESS)', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    scheduler.addJob({ jobId: 'job3', workFunction: 'function (x) { return x; }', data: [1] });
    await supervisor.start();
    await scheduler.until(() => scheduler.returns.length >= 1, 20_000, 'return');
    expect(scheduler.returns[0]).toEqual({ jobId: 'job3', sliceNumbers: [1], reason: 'ENOPROGRESS' });
    expect(scheduler.results).toEqual([]);
  }, 30_000);

  it('graceful stop: returns queued slices, finishes and submits the running one, unsubscribes', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 }, { slicesPerTask: 3 });
    scheduler.addJob({ jobId: 'job4', workFunction: busy(800), data: [1, 2, 3] });
    await supervisor.start();
    await scheduler.until(() => scheduler.subscribers.size === 3, 10_000, 'SchedMsg subscriptions');
    await scheduler.until(() => scheduler.begins.length === 1, 20_000, 'first slice begun');
    await supervisor.stop(false);
    expect(scheduler.returns).toEqual([
      { jobId: 'job4', sliceNumbers: [2, 3], reason: 'stopWork returning all queued slices' },
    ]);
    expect(scheduler.results.map((r) => [r.slice, r.value])).toEqual([[1, 2]]);
    expect(scheduler.requests.filter((r) => r.operation === 'unsubscribe')).toHaveLength(3);
    expect(supervisor.state).toBe('stopped');
    expect(supervisor.openSandboxes).toBe(0);
  }, 30_000);

  it('keeps the leases of held slices alive with Soteria-only requests while every sandbox is busy', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 }, { slicesPerTask: 3 });
    scheduler.addJob({ jobId: 'jobS', workFunction: busy(1_500), data: [1, 2, 3] });
    await supervisor.start();
    await scheduler.until(
      () => scheduler.requests.some((r) => r.operation === 'requestTask@3' && r.data.fetchState === 2),
      20_000,
      'a Soteria request',
    );
    const soteria = scheduler.requests.find(
      (r) => r.operation === 'requestTask@3' && r.data.fetchState === 2,
    );
    expect(soteria?.data).toEqual({
      coreStats: { worker: 'abcdefghijklmnopqrstuv' },
      paymentAddress: payee,
      soteriaJobs: { jobS: [1, 2, 3] },
      overdueSlices: null,
      fetchState: 2,
    });
  }, 30_000);

  it('immediate stop: kills the sandboxes and returns every unfinished slice', async () => {
    const { scheduler, supervisor } = await start(
      { maxSandboxes: 2, statusBegin: 'slice' },
      { slicesPerTask: 3 },
    );
    scheduler.addJob({ jobId: 'job5', workFunction: busy(5_000), data: [1, 2, 3] });
    await supervisor.start();
    await scheduler.until(() => scheduler.begins.length === 2, 20_000, 'two slices begun');
    // the slices run 5 s each: an immediate stop must not wait for them (no result is submitted)
    await supervisor.stop(true);
    const returned = scheduler.returns.flatMap((r) => r.sliceNumbers.map((n) => [n, r.reason]));
    expect(returned.sort()).toEqual([
      [1, 'JobManager destroy'],
      [2, 'JobManager destroy'],
      [3, 'stopWork returning all queued slices'],
    ]);
    expect(scheduler.results).toEqual([]);
  }, 30_000);

  it('a second stop(true) during a graceful stop escalates', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    scheduler.addJob({ jobId: 'job6', workFunction: busy(8_000), data: [1] });
    await supervisor.start();
    await scheduler.until(() => scheduler.begins.length === 1, 20_000, 'slice begun');
    const graceful = supervisor.stop(false);
    await scheduler.until(
      () => scheduler.requests.some((r) => r.operation === 'unsubscribe'),
      10_000,
      'unsubscribe',
    );
    await supervisor.stop(true);
    await graceful;
    expect(scheduler.results).toEqual([]);
    expect(scheduler.returns).toEqual([{ jobId: 'job6', sliceNumbers: [1], reason: 'JobManager destroy' }]);
  }, 30_000);

  // the poll is 10 minutes in the next three: only a wake-up or the worker's own prefetch can fetch
  const noPoll = 600_000;

  it('idle: a schedmsg::wake push makes it ask for work at once', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1, watchdogIntervalMs: noPoll });
    const answers: number[] = [];
    const firstAnswer = new Promise<void>((resolve) =>
      supervisor.on('fetch', (f) => {
        answers.push(f.slices);
        resolve();
      }),
    );
    await supervisor.start();
    await firstAnswer;
    await scheduler.until(() => scheduler.subscribers.has('schedmsg::wake'), 20_000, 'wake subscription');
    expect(answers).toEqual([0]);
    scheduler.addJob({ jobId: 'jobW', workFunction: 'function (x) { progress(1); return -x; }', data: [7] });
    expect(await scheduler.wake()).toBe(true);
    await scheduler.until(() => scheduler.results.length === 1, 60_000, 'the result after the wake-up');
    expect(scheduler.results[0]).toMatchObject({ jobId: 'jobW', slice: 1, value: -7 });
    expect(supervisor.options.watchdogIntervalMs).toBe(noPoll);
  }, 90_000);

  it('prefetch: asks for the next task while its slice still runs, not after the result', async () => {
    const { scheduler, supervisor } = await start(
      { maxSandboxes: 1, watchdogIntervalMs: noPoll },
      { slicesPerTask: 1 },
    );
    scheduler.addJob({ jobId: 'jobP', workFunction: busy(300), data: [1, 2, 3] });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 3, 60_000, 'three results');
    const ops = scheduler.requests
      .filter((r) => r.operation === 'result' || (r.operation === 'requestTask@3' && r.data.targetLoad))
      .map((r) => (r.operation === 'result' ? `result ${r.data.slice}` : 'requestTask'));
    // one slice per task: the 2nd and 3rd tasks were asked for while slices 1 and 2 ran
    const fetches = ops.flatMap((op, i) => (op === 'requestTask' ? [i] : []));
    expect(fetches[1], ops.join(', ')).toBeLessThan(ops.indexOf('result 1'));
    expect(fetches[2], ops.join(', ')).toBeLessThan(ops.indexOf('result 2'));
  }, 90_000);

  it('batches: the slices started in one turn share one status begin message', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 4, watchdogIntervalMs: noPoll });
    const wf = 'function (x) { progress(1); return x + 1; }';
    scheduler.addJob({ jobId: 'jobB', workFunction: wf, data: [1, 2, 3, 4] });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 4, 60_000, 'first four results');
    await scheduler.until(() => scheduler.subscribers.has('schedmsg::wake'), 20_000, 'wake subscription');
    // four sandboxes of jobB are idle now: four more slices start together
    const before = scheduler.requests.length;
    scheduler.addJob({ jobId: 'jobB', workFunction: wf, data: [1, 2, 3, 4, 5, 6, 7, 8] });
    await scheduler.wake();
    await scheduler.until(() => scheduler.results.length === 8, 60_000, 'eight results');
    const begins = scheduler.requests.slice(before).filter((r) => r.operation === 'status');
    expect(begins).toHaveLength(1);
    expect(begins[0]?.data.slices).toEqual([
      expect.objectContaining({ job: 'jobB', sliceNumbers: [5, 6, 7, 8], status: 'begin' }),
    ]);
    expect(scheduler.results.slice(4).map((r) => r.value)).toEqual(expect.arrayContaining([6, 7, 8, 9]));
    const traffic = supervisor.dcpStats();
    expect(traffic.envelopesSent).toBeGreaterThan(0);
    expect(traffic.envelopesReceived).toBeGreaterThan(0);
  }, 90_000);

  it("statusBegin 'task' (default): one begin message per task, none for its later slices", async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 2 }, { slicesPerTask: 6 });
    scheduler.addJob({
      jobId: 'jobT',
      workFunction: 'function (x) { progress(1); return x; }',
      data: [1, 2, 3, 4, 5, 6],
    });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 6, 60_000, 'six results');
    const statuses = scheduler.requests.filter((r) => r.operation === 'status');
    expect(statuses).toHaveLength(1);
    // the slices that started first (in the same turn), whichever sandbox was ready first
    expect(scheduler.begins.length).toBeGreaterThanOrEqual(1);
    expect(scheduler.begins.length).toBeLessThanOrEqual(2);
    expect(scheduler.begins.every((b) => b.jobId === 'jobT')).toBe(true);
  }, 90_000);

  it('retries a result the scheduler refused for its own trouble (EINTERNAL) instead of returning it', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 }, { failResults: 3 });
    scheduler.addJob({
      jobId: 'jobR',
      workFunction: 'function (x) { progress(1); return x * 3; }',
      data: [5],
    });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 1, 60_000, 'the result, on the 4th attempt');
    expect(scheduler.results[0]).toMatchObject({ jobId: 'jobR', slice: 1, value: 15 });
    expect(scheduler.requests.filter((r) => r.operation === 'result')).toHaveLength(4);
    expect(scheduler.returns).toEqual([]);
  }, 90_000);

  it('a scheduler slower than the slices sets the pace: at most maxSubmitting results in flight', async () => {
    const { scheduler, supervisor } = await start(
      { maxSandboxes: 1, maxSubmitting: 2 },
      { slicesPerTask: 10, resultDelayMs: 300 },
    );
    const data = Array.from({ length: 10 }, (_, i) => i);
    scheduler.addJob({ jobId: 'jobQ', workFunction: 'function (x) { progress(1); return x; }', data });
    await supervisor.start();
    await scheduler.until(() => scheduler.results.length === 10, 60_000, 'ten results');
    expect(scheduler.inFlight.maxResults).toBeGreaterThanOrEqual(1);
    expect(scheduler.inFlight.maxResults).toBeLessThanOrEqual(2);
  }, 90_000);

  it('follows SchedMsg commands: announce and remove', async () => {
    const { scheduler, supervisor } = await start({ maxSandboxes: 1 });
    const logs: string[] = [];
    supervisor.on('log', (_l, m) => logs.push(m));
    scheduler.addJob({ jobId: 'job7', workFunction: busy(10_000), data: [1] });
    await supervisor.start();
    await scheduler.until(
      () => scheduler.subscribers.size === 3 && scheduler.begins.length === 1,
      20_000,
      'ready',
    );
    expect(await scheduler.command('announce', { message: 'hello workers' })).toBe('success');
    expect(logs).toContain('Announcement: hello workers');
    expect(await scheduler.command('remove', { jobAddress: 'job7' })).toBe('success');
    await scheduler.until(() => scheduler.returns.length === 1, 10_000, 'removed slice returned');
    expect(scheduler.returns[0]).toMatchObject({ jobId: 'job7', sliceNumbers: [1] });
    const next = scheduler.requests.length;
    await scheduler.until(
      () => scheduler.requests.slice(next).some((r) => r.operation === 'requestTask@3'),
      10_000,
      'next requestTask',
    );
    const req = scheduler.requests.slice(next).find((r) => r.operation === 'requestTask@3');
    expect(req?.data.rejectedJobs).toEqual(['job7']);
  }, 30_000);
});

describe('Supervisor when the evaluator dies', () => {
  it('kill -9 of the evaluator mid-slice: sandboxes reconnect to the restarted evaluator and the slice is re-run', async () => {
    const port = await freePort();
    let evaluator = await startEvaluatorAt(port);
    const scheduler = await startTestScheduler();
    const found = await discoverScheduler(scheduler.base);
    const supervisor = new Supervisor({
      identity: Identity.random(),
      services: found.services,
      schedulerOrigin: scheduler.base,
      evaluator: { host: '127.0.0.1', port },
      paymentAddress: payee,
      workerId: 'abcdefghijklmnopqrstuv',
      maxSandboxes: 1,
      watchdogIntervalMs: 200,
      statusBegin: 'slice',
    });
    try {
      scheduler.addJob({ jobId: 'jobK', workFunction: busy(1_500), data: [21] });
      await supervisor.start();
      await scheduler.until(() => scheduler.begins.length === 1, 20_000, 'slice begun');
      evaluator.child.kill('SIGKILL');
      await new Promise((r) => evaluator.child.once('exit', r));
      evaluator = await startEvaluatorAt(port);
      await scheduler.until(() => scheduler.results.length === 1, 30_000, 'result after restart');
      expect(scheduler.results[0]).toMatchObject({ slice: 1, value: 42 });
      expect(scheduler.begins).toEqual([
        { jobId: 'jobK', sliceNumber: 1 },
        { jobId: 'jobK', sliceNumber: 1 },
      ]);
      expect(scheduler.returns).toEqual([]);
    } finally {
      await supervisor.stop(true);
      await scheduler.stop();
      await evaluator.stop();
    }
  }, 90_000);
});
