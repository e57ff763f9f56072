import { type Database, openDatabase } from '@dcp-emu/db';
import { freshDatabase, PROVIDERS, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type NewJob, SchedulerStore } from './scheduler-store';

function newJob(id: string, over: Partial<NewJob> = {}): NewJob {
  return {
    id,
    owner: '0x1111111111111111111111111111111111111111',
    paymentAccount: '0x2222222222222222222222222222222222222222',
    generation: 5,
    inputClosed: false,
    inputKind: 'array',
    sliceCount: 0,
    workFunctionUri: 'data:,x=>x',
    arguments: [],
    requirements: 64,
    public: { name: 'n', description: '', link: '' },
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

const result = (n: number) => ({ string: String(n), method: 'json' as const });

describe.each(PROVIDERS)('scheduler store on %s', (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let store: SchedulerStore;
  const t0 = new Date('2026-01-01T00:00:00Z');
  const later = (ms: number) => new Date(t0.getTime() + ms);

  beforeAll(async () => {
    tdb = await freshDatabase(provider, inject('pgUrl'));
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    store = new SchedulerStore(db.prisma);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('creates a job once: a retried submit gets the same job', async () => {
    const a = await store.createJob(newJob('j-once'), t0, ['k:1']);
    const b = await store.createJob(newJob('j-once'), t0, ['k:1', 'k:2']);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.sliceCount).toBe(1);
  });

  it('appends uploaded slices in order and leases queued ones', async () => {
    await store.createJob(newJob('j-arr'), t0);
    expect(await store.appendSlices('j-arr', ['k:a', 'k:b', 'k:c'], t0)).toBe(3);
    expect(await store.appendSlices('j-arr', ['k:d'], t0)).toBe(4);
    const leased = await store.leaseSlices('j-arr', 3, 'w1', t0, later(1000));
    expect(leased.map((s) => [s.sliceNumber, s.input])).toEqual([
      [1, 'k:a'],
      [2, 'k:b'],
      [3, 'k:c'],
    ]);
    const next = await store.leaseSlices('j-arr', 3, 'w2', t0, later(1000));
    expect(next.map((s) => s.sliceNumber)).toEqual([4]);
    expect(await store.sliceCounts('j-arr')).toEqual({ queued: 0, leased: 4, done: 0 });
  });

  it('materializes a 1,000,000-slice range only as far as it is handed out', async () => {
    await store.createJob(
      newJob('j-range', {
        inputKind: 'range',
        range: { start: 0, end: 999_999, step: 1 },
        sliceCount: 1_000_000,
        inputClosed: true,
      }),
      t0,
    );
    const first = await store.leaseSlices('j-range', 5, 'w1', t0, later(1000));
    expect(first.map((s) => s.sliceNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(first.every((s) => s.input === null)).toBe(true);
    expect(await store.sliceCounts('j-range')).toEqual({ queued: 0, leased: 5, done: 0 });
    const job = await store.getJob('j-range');
    expect(job?.nextRangeSlice).toBe(6);
  });

  it('re-queues expired leases and those of a vanished worker; returned slices count errors', async () => {
    await store.createJob(newJob('j-lease'), t0, ['k:1', 'k:2', 'k:3']);
    await store.leaseSlices('j-lease', 1, 'w-exp', t0, later(100));
    await store.leaseSlices('j-lease', 1, 'w-gone', t0, later(100_000));
    await store.leaseSlices('j-lease', 1, 'w-err', t0, later(100_000));
    expect(await store.requeueExpired(later(200))).toBeGreaterThanOrEqual(1);
    expect(await store.requeueWorker('w-gone')).toBe(1);
    expect(await store.requeue('j-lease', [3], 'w-err', 'ENOPROGRESS')).toBe(1);
    expect(await store.sliceCounts('j-lease')).toEqual({ queued: 3, leased: 0, done: 0 });
    expect(await store.maxSliceErrors('j-lease')).toBe(1);
    expect((await store.getJob('j-lease'))?.errorCount).toBe(1);
  });

  it('keeps the first result of a slice; late and duplicate results change nothing', async () => {
    await store.createJob(newJob('j-res', { inputClosed: true }), t0, ['k:1', 'k:2']);
    await store.leaseSlices('j-res', 2, 'w1', t0, later(1000));
    const w = (n: number, v: number) => ({
      jobId: 'j-res',
      sliceNumber: n,
      worker: 'w1',
      paymentAddress: '0x3',
      result: result(v),
      isError: false,
      cpuMs: 10,
      gpuMs: 0,
      bytesIn: 5,
      bytesOut: 7,
    });
    expect(await store.recordResults([w(1, 100), w(1, 999), w(3, 1)], t0)).toEqual([
      'accepted',
      'duplicate',
      'unknown',
    ]);
    expect(await store.recordResults([w(2, 200), w(1, 555)], t0)).toEqual(['accepted', 'duplicate']);
    const slices = await store.slices('j-res');
    expect(slices.map((s) => s.result?.string)).toEqual(['100', '200']);
    const job = await store.getJob('j-res');
    expect(job).toMatchObject({
      completedCount: 2,
      cpuMs: 20,
      bytesIn: 10,
      bytesOut: 14,
      measuredSlices: 2,
      sliceCpuMs: 10,
    });
  });

  it('ends a job once and keeps reliable events until delivered', async () => {
    await store.createJob(newJob('j-end'), t0);
    expect(await store.endJob('j-end', 'cancelled', t0, 'why', 'ECANCELLED')).toMatchObject({
      status: 'cancelled',
      cancelReason: 'why',
    });
    expect(await store.endJob('j-end', 'finished', t0)).toBeUndefined();
    const ev = await store.addEvent('j-end', 'stop', { runStatus: 'cancelled' }, t0);
    expect((await store.pendingEvents('j-end')).map((e) => e.seq)).toEqual([ev.seq]);
    await store.markDelivered(ev.seq);
    expect(await store.pendingEvents('j-end')).toEqual([]);
  });

  it('keeps compute groups by join key: unique, looked up in bulk, deleted once', async () => {
    const group = (joinKey: string, createdAt: Date) => ({
      joinKey,
      joinHash: `eh1-${joinKey}`,
      name: joinKey.toUpperCase(),
      owner: '0x1111111111111111111111111111111111111111',
      commissionRate: '0.25',
      createdAt,
    });
    expect(await store.createComputeGroup(group('g-a', t0))).toBe(true);
    expect(await store.createComputeGroup(group('g-b', later(1)))).toBe(true);
    expect(await store.createComputeGroup({ ...group('g-a', later(2)), joinHash: 'eh1-other' })).toBe(false);
    expect(await store.computeGroup('g-a')).toEqual(group('g-a', t0));
    expect(await store.computeGroup('g-none')).toBeUndefined();
    const byKey = await store.computeGroupsByKey(['g-b', 'g-none', 'g-a']);
    expect([...byKey.keys()].sort()).toEqual(['g-a', 'g-b']);
    expect((await store.computeGroupsByKey([])).size).toBe(0);
    expect((await store.listComputeGroups()).map((g) => g.joinKey)).toEqual(['g-a', 'g-b']);
    expect(await store.deleteComputeGroup('g-a')).toBe(true);
    expect(await store.deleteComputeGroup('g-a')).toBe(false);
    expect((await store.listComputeGroups()).map((g) => g.joinKey)).toEqual(['g-b']);
  });
});
