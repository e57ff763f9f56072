import { systemClock } from '@dcp-emu/protocol/node';
import { type Database, openDatabase } from '@dcp-emu/db';
import { cryptoRandom, DcpSession, Identity, silentLogger } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import type { SchedulerContext } from '../context';
import { SchedulerCore } from '../core';
import { EventRouter } from '../events/event-router';
import { NoEscrow } from '../escrow/escrow';
import { openSchedulerState } from '../state/open-state';
import type { JobRecord } from '../state/job-store';
import { CAPABILITY_BITS, eh1, joinHash } from './matching';

const client = Identity.random();
const account = '0x2222222222222222222222222222222222222222';

describe('explain: why a worker is not computing a job (use cases over SQLite)', () => {
  let tdb: TestDatabase;
  let db: Database;
  let core: SchedulerCore;
  let session: DcpSession;
  const paused = new Set<string>();
  let now = Date.parse('2026-01-01T00:00:00Z');

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
    // unmetered, except that a job can be marked short of funds
    const escrow = Object.assign(new NoEscrow(), { paused: (id: string) => paused.has(id) });
    const ctx: SchedulerContext = {
      ...state,
      events: new EventRouter(state.store, clock, cryptoRandom, silentLogger),
      clock,
      random: cryptoRandom,
      escrow,
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
  const ask = (worker: string, extra: Record<string, unknown> = {}) =>
    core.requestTask.execute(
      {
        targetLoad: { cpu: 1 },
        coreStats: { worker },
        workerComputeGroups: publicGroup(),
        capabilities: CAPABILITY_BITS.engine.v8 | CAPABILITY_BITS.KVINv9,
        ...extra,
      },
      Identity.random().address,
      5,
      session,
    );
  const submit = async (job: string, extra: Record<string, unknown> = {}, groups = true) => {
    await core.submit.execute(
      {
        paymentAccount: account,
        workFunctionURI: 'data:,(x)%3D%3Ex',
        job,
        dataRange: { start: 1, end: 20, step: 1 },
        mvMultSlicePayment: 1,
        ...extra,
      },
      client.address,
      5,
      true,
    );
    if (groups) await core.addJobToGroups.execute({ job, cgArray: [] }, client.address, 'client-dcpsid');
    return (await core.ctx.store.getJob(job)) as JobRecord;
  };
  const explain = async (job: string) =>
    core.explain.execute((await core.ctx.store.getJob(job)) as JobRecord);
  const reasonOf = (r: Awaited<ReturnType<typeof explain>>, worker: string) =>
    r.workers.find((w) => w.worker.endsWith(`/${worker}`))?.reason;

  it('no workers at all: the job is blocked by that', async () => {
    await submit('job-a');
    const r = await explain('job-a');
    expect(r.workers).toEqual([]);
    expect(r.blocked?.reason).toBe('no-workers');
    expect(r.summary).toMatch(/no workers are connected/);
  });

  it('names each worker’s reason: group, requirements, minimum wage, busy, rejected, computing', async () => {
    // job-a takes the first slices of the public workers; then it is measured: 36 s of CPU per slice
    await ask('gets-it');
    let r = await explain('job-a');
    expect(reasonOf(r, 'gets-it')).toBe('computing');
    expect(r.summary).toMatch(/1 worker\(s\) are computing/);

    await submit('job-lab', {}, false);
    await core.ctx.store.setOptions(
      'job-lab',
      { ...(await core.ctx.store.getJob('job-lab'))!.options, groups: ['lab'] },
      new Date(now),
    );
    await ask('public-only');
    r = await explain('job-lab');
    expect(reasonOf(r, 'public-only')).toBe('not-in-group');
    expect(r.workers.find((w) => w.reason === 'not-in-group')?.message).toMatch(/\(lab\).*in public/);

    await submit('job-gpu', { requirements: CAPABILITY_BITS.environment.webgpu | CAPABILITY_BITS.KVINv9 });
    r = await explain('job-gpu');
    expect(reasonOf(r, 'public-only')).toBe('requirements');

    await ask('busy', { targetLoad: { cpu: 0 } });
    await ask('picky', { rejectedJobs: ['job-gpu'] });
    r = await explain('job-gpu');
    expect(reasonOf(r, 'busy')).toBe('sandbox-busy');
    expect(reasonOf(r, 'picky')).toBe('rejected');
  });

  it('offer below the minimum wage once the job is measured; ENOFUNDS blocks every worker', async () => {
    const job = await submit('job-cheap', { mvMultSlicePayment: 0.001 });
    expect(job.sliceCpuMs).toBe(0);
    // unmeasured jobs pass any minimum wage (as in RequestTask); measured: 0.001 × market rate per 10 s
    job.sliceCpuMs = 10_000;
    job.measuredSlices = 1;
    await ask('greedy', { minimumWage: { CPU: 1_000_000 }, jobIds: ['job-cheap'] });
    const r = await explain('job-cheap');
    expect(reasonOf(r, 'greedy')).toBe('below-minimum-wage');
    expect(r.job.wage).toBeGreaterThan(0);

    paused.add('job-cheap');
    const short = await explain('job-cheap');
    expect(short.blocked?.reason).toBe('no-funds');
    expect(reasonOf(short, 'greedy')).toBe('no-funds');
    expect(short.summary).toMatch(/ENOFUNDS/);
    paused.delete('job-cheap');
  });

  it("origins workers refused to fetch from (the job's error events) name the reason of a worker that rejected it", async () => {
    await submit('job-fetch');
    core.ctx.events.emit('job-fetch', 'error', {
      sliceNumber: 1,
      name: 'Error',
      message: "Not allowed to fetch from 'http://data.example:8080' for job data: allow it with …",
    });
    await ask('refuser', { rejectedJobs: ['job-fetch'], jobIds: ['job-fetch'] });
    const r = await explain('job-fetch');
    expect(r.job.refusedOrigins).toEqual(['http://data.example:8080']);
    expect(reasonOf(r, 'refuser')).toBe('origin-refused');
    expect(r.workers.find((w) => w.reason === 'origin-refused')?.message).toMatch(/--allow-origin/);
  });

  it('a finished or cancelled job says so', async () => {
    await submit('job-x');
    await core.lifecycle.cancel('job-x', 'enough');
    now += 1000;
    const r = await explain('job-x');
    expect(r.blocked?.reason).toBe('job-not-running');
    expect(r.summary).toMatch(/cancelled/);
  });
});
