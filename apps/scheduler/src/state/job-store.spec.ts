import { type Database, openDatabase } from '@dcp-emu/db';
import { freshDatabase, PROVIDERS, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '@dcp-emu/service-kit';
import { JobStore, type NewJob } from './job-store';
import { Journal, type JournalBatch, type JournalDb } from './journal';
import { openJournalDb } from './sql-journal';

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

const logger = createLogger('job-store-spec', 'silent');
const terms = { leaseMs: 1_000, maxLeaseMs: 10_000 };

/** A journal database that counts transactions and can be made to fail like a busy database. */
function counting(inner: JournalDb) {
  const stats = { batches: 0, busy: 0 };
  const db: JournalDb = {
    async apply(batch: JournalBatch) {
      if (stats.busy > 0) {
        stats.busy--;
        throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      }
      stats.batches++;
      await inner.apply(batch);
    },
    close: () => inner.close(),
  };
  return { db, stats };
}

describe.each(PROVIDERS)('job store on %s', (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  let store: JobStore;
  let stats: { batches: number; busy: number };
  const t0 = new Date('2026-01-01T00:00:00Z');
  const ms = t0.getTime();

  async function open(): Promise<JobStore> {
    const c = counting(await openJournalDb(db.location));
    stats = c.stats;
    const s = new JobStore(db.prisma, new Journal(c.db, logger, 20), terms);
    await s.load();
    return s;
  }

  beforeAll(async () => {
    tdb = await freshDatabase(provider, inject('pgUrl'));
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    store = await open();
  });
  afterAll(async () => {
    await store?.journal.close();
    await db?.close();
    await tdb?.drop();
  });

  it('creates a job once: a retried submit gets the same job, durable when createJob resolves', async () => {
    const a = await store.createJob(newJob('j-once'), t0, ['k:1']);
    const b = await store.createJob(newJob('j-once'), t0, ['k:1', 'k:2']);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.sliceCount).toBe(1);
    const row = await db.prisma.schedJob.findUnique({ where: { id: 'j-once' } });
    expect(row?.sliceCount).toBe(1);
    expect(await db.prisma.schedSlice.count({ where: { jobId: 'j-once' } })).toBe(1);
  });

  it('appends uploaded slices in order and leases queued ones', async () => {
    await store.createJob(newJob('j-arr'), t0);
    expect(await store.appendSlices('j-arr', ['k:a', 'k:b', 'k:c'], t0)).toBe(3);
    expect(await store.appendSlices('j-arr', ['k:d'], t0)).toBe(4);
    const leased = store.leaseSlices('j-arr', 3, 'w1', ms);
    expect(leased.map((s) => [s.sliceNumber, s.input])).toEqual([
      [1, 'k:a'],
      [2, 'k:b'],
      [3, 'k:c'],
    ]);
    expect(store.leaseSlices('j-arr', 3, 'w2', ms).map((s) => s.sliceNumber)).toEqual([4]);
    expect(await store.sliceCounts('j-arr')).toEqual({ queued: 0, leased: 4, done: 0 });
    expect(store.leasesOf('w2')).toEqual([{ jobId: 'j-arr', sliceNumber: 4 }]);
  });

  it('a 1,000,000-slice range job writes no slice rows until results arrive', async () => {
    await store.createJob(
      newJob('j-range', {
        inputKind: 'range',
        range: { start: 0, end: 999_999, step: 1 },
        sliceCount: 1_000_000,
        inputClosed: true,
      }),
      t0,
    );
    const first = store.leaseSlices('j-range', 5, 'w1', ms);
    expect(first.map((s) => s.sliceNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(first.every((s) => s.input === null)).toBe(true);
    expect(await store.sliceCounts('j-range')).toEqual({ queued: 999_995, leased: 5, done: 0 });
    expect(await db.prisma.schedSlice.count({ where: { jobId: 'j-range' } })).toBe(0);
    store.requeue('j-range', [2], 'w1', ms);
    // a returned slice is handed out again before fresh ones
    expect(store.leaseSlices('j-range', 2, 'w2', ms).map((s) => s.sliceNumber)).toEqual([2, 6]);
  });

  it('leases follow the worker: renewed while it talks, capped, re-queued when it goes or fails', async () => {
    await store.createJob(newJob('j-lease'), t0, ['k:1', 'k:2', 'k:3', 'k:4']);
    store.leaseSlices('j-lease', 1, 'w-exp', ms);
    store.leaseSlices('j-lease', 1, 'w-live', ms);
    store.leaseSlices('j-lease', 1, 'w-gone', ms);
    store.leaseSlices('j-lease', 1, 'w-err', ms);
    store.seen('w-live', ms + 900);
    store.seen('w-err', ms + 900);
    store.seen('w-gone', ms + 900);
    expect(store.requeueExpired(ms + 1_500)).toBeGreaterThanOrEqual(1); // w-exp: silent for longer than leaseMs
    expect(store.leasesOf('w-exp')).toEqual([]);
    expect(store.leasesOf('w-live')).toHaveLength(1);
    expect(store.requeueWorker('w-gone', ms + 1_500)).toBe(1);
    expect(store.requeue('j-lease', [4], 'w-live', ms + 1_500)).toBe(0); // not its slice
    expect(store.requeue('j-lease', [4], 'w-err', ms + 1_500, 'ENOPROGRESS')).toBe(1);
    expect(await store.sliceCounts('j-lease')).toEqual({ queued: 3, leased: 1, done: 0 });
    expect(store.maxSliceErrors('j-lease')).toBe(1);
    expect((await store.getJob('j-lease'))?.errorCount).toBe(1);
    // a live worker's lease ends at the hard limit all the same
    store.seen('w-live', ms + 10_500);
    expect(store.requeueExpired(ms + 10_600)).toBe(1);
    expect(store.leasesOf('w-live')).toEqual([]);
    await store.journal.flush();
    const failed = await db.prisma.schedSlice.findUnique({
      where: { jobId_sliceNumber: { jobId: 'j-lease', sliceNumber: 4 } },
    });
    expect(failed).toMatchObject({ errors: 1, lastError: 'ENOPROGRESS', status: 'queued' });
  });

  it('keeps the first result of a slice; late and duplicate results change nothing', async () => {
    await store.createJob(newJob('j-res', { inputClosed: true }), t0, ['k:1', 'k:2']);
    store.leaseSlices('j-res', 2, 'w1', ms);
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
    expect(slices.map((s) => s.attempts)).toEqual([1, 1]);
    expect(await store.getJob('j-res')).toMatchObject({
      completedCount: 2,
      cpuMs: 20,
      bytesIn: 10,
      bytesOut: 14,
      measuredSlices: 2,
      sliceCpuMs: 10,
    });
    expect(store.leasesOf('w1')).toEqual([]);
  });

  it('reads any number of slices by number (more than SQLite binds in one statement), running or not', async () => {
    const n = 1_200;
    const inputs = Array.from({ length: n }, (_, i) => `k:${i + 1}`);
    await store.createJob(newJob('j-many', { inputClosed: true }), t0, inputs);
    store.leaseSlices('j-many', n, 'w1', ms);
    const w = (k: number) => ({
      jobId: 'j-many',
      sliceNumber: k,
      worker: 'w1',
      paymentAddress: '0x3',
      result: result(k),
      isError: false,
      cpuMs: 1,
      gpuMs: 0,
      bytesIn: 1,
      bytesOut: 1,
    });
    const done = Array.from({ length: n - 1 }, (_, i) => i + 1); // slice 1200 stays leased
    await store.recordResults(done.map(w), t0);
    const wanted = [n, ...done.reverse()];
    const got = await store.slices('j-many', { numbers: wanted });
    expect(got).toHaveLength(n);
    expect(got.filter((s) => s.status === 'done').map((s) => Number(s.result?.string))).toEqual(
      Array.from({ length: n - 1 }, (_, i) => n - 1 - i),
    );
    expect(got.find((s) => s.sliceNumber === n)?.status).toBe('leased');
  });

  it('writes one tick of results as one transaction and retries a busy database', async () => {
    await store.createJob(newJob('j-tick', { inputClosed: true }), t0, ['k:1', 'k:2', 'k:3']);
    store.leaseSlices('j-tick', 3, 'w1', ms);
    const w = (n: number) => ({
      jobId: 'j-tick',
      sliceNumber: n,
      worker: 'w1',
      paymentAddress: '0x3',
      result: result(n),
      isError: false,
      cpuMs: 1,
      gpuMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      payment: { payTo: '0x3', amount: '0.0001', commissionTo: '0x4', commission: '0.000005' },
    });
    const before = stats.batches;
    stats.busy = 3; // the next three attempts fail as SQLITE_BUSY would
    const outcomes = await Promise.all([1, 2, 3].map((n) => store.recordResults([w(n)], t0)));
    expect(outcomes.flat()).toEqual(['accepted', 'accepted', 'accepted']);
    expect(stats.batches - before).toBe(1);
    expect(await db.prisma.schedPayment.count({ where: { jobId: 'j-tick' } })).toBe(3);
    expect((await db.prisma.schedJob.findUnique({ where: { id: 'j-tick' } }))?.completedCount).toBe(3);
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
    expect((await db.prisma.schedJob.findUnique({ where: { id: 'j-end' } }))?.status).toBe('cancelled');
  });

  it('rebuilds its memory from the database after a restart: done slices stay done, leases are queued', async () => {
    await store.createJob(newJob('j-restart', { inputClosed: true }), t0, ['k:1', 'k:2', 'k:3']);
    store.leaseSlices('j-restart', 3, 'w1', ms);
    const w = {
      jobId: 'j-restart',
      sliceNumber: 2,
      worker: 'w1',
      paymentAddress: '0x3',
      result: result(2),
      isError: false,
      cpuMs: 1,
      gpuMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    await store.recordResults([w], t0);
    store.requeue('j-restart', [3], 'w1', ms, 'EUNCAUGHT');
    await store.journal.close();
    store = await open();
    expect(await store.sliceCounts('j-restart')).toEqual({ queued: 2, leased: 0, done: 1 });
    expect(store.maxSliceErrors('j-restart')).toBe(1);
    expect(store.leaseSlices('j-restart', 5, 'w2', ms).map((s) => [s.sliceNumber, s.input])).toEqual([
      [1, 'k:1'],
      [3, 'k:3'],
    ]);
    // a late result of the previous run still counts once
    expect(await store.recordResults([{ ...w, sliceNumber: 1 }, w], t0)).toEqual(['accepted', 'duplicate']);
    const ev = await store.addEvent('j-restart', 'stop', {}, t0);
    expect(ev.seq).toBeGreaterThan(1);
  });
});
