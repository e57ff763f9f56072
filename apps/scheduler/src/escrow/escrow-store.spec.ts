import { type Database, openDatabase } from '@dcp-emu/db';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultTuning } from '../config';
import type { JobStore } from '../state/job-store';
import { openSchedulerState } from '../state/open-state';
import { EscrowStore } from './escrow-store';

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;

describe.each(['sqlite', 'postgresql'] as const)(
  'EscrowStore settlement writes, journaled from memory (%s)',
  (provider) => {
    let tdb: TestDatabase;
    let db: Database;
    let store: EscrowStore;
    let sched: JobStore;

    beforeAll(async () => {
      tdb = await freshDatabase(provider, inject('pgUrl'));
      db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
      ({ store: sched } = await openSchedulerState({
        prisma: db.prisma,
        location: db.location,
        logger: quiet,
        leases: defaultTuning,
      }));
      store = new EscrowStore(db.prisma, sched.owed);
    });
    afterAll(async () => {
      await sched?.journal.close();
      await db?.close();
      await tdb?.drop();
    });

    async function owe(jobId: string, n: number) {
      const at = new Date('2026-01-01T00:00:00Z');
      await db.prisma.schedPayment.createMany({
        data: Array.from({ length: n }, (_, i) => ({
          jobId,
          sliceNumber: i + 1,
          payTo: '0x1111111111111111111111111111111111111111',
          amount: '0.0001',
          commissionTo: '0x2222222222222222222222222222222222222222',
          commission: '0.000005',
          worker: 'w',
          createdAt: new Date(at.getTime() + i),
        })),
      });
      await sched.load(); // owed payments are read into memory at start-up
    }

    it('marks thousands of payments settled with their transactions in one call, each row once', async () => {
      await owe('a', 6000);
      await owe('b', 3);
      const now = new Date('2026-02-03T04:05:06.789Z');
      const settled = Array.from({ length: 5999 }, (_, i) => ({
        jobId: 'a',
        sliceNumber: i + 2,
        transaction: `tx_${i + 2}`,
      }));
      expect(await store.settledMany(settled, now)).toBe(5999);
      const rows = await store.payments('a');
      expect(rows[0]).toMatchObject({ sliceNumber: 1, settledAt: null, transaction: null });
      expect(rows[1]).toMatchObject({ sliceNumber: 2, settledAt: now, transaction: 'tx_2' });
      expect(rows[5999]).toMatchObject({ sliceNumber: 6000, settledAt: now, transaction: 'tx_6000' });
      expect((await store.payments('b')).every((p) => p.settledAt === null)).toBe(true);
      // already settled rows stay as they were
      expect(
        await store.settledMany([{ jobId: 'a', sliceNumber: 2, transaction: 'other' }], new Date()),
      ).toBe(0);
      expect((await store.payments('a'))[1]).toMatchObject({ transaction: 'tx_2', settledAt: now });
      expect(await store.settledMany([], now)).toBe(0);
      // what is owed skips the jobs left out
      expect((await store.unsettled(10, { notJobs: ['a'] })).map((p) => p.jobId)).toEqual(['b', 'b', 'b']);
      expect((await store.unsettled(10, { jobId: 'a' })).map((p) => p.sliceNumber)).toEqual([1]);
    });

    it('writes off what a job still owes, without a transaction, leaving settled rows and other jobs', async () => {
      await owe('c', 4);
      await owe('d', 2);
      await store.settledMany([{ jobId: 'c', sliceNumber: 1, transaction: 'tx_c1' }], new Date());
      expect(await store.writeOff(['c'], new Date())).toBe(3);
      const rows = await store.payments('c');
      expect(rows[0]).toMatchObject({ transaction: 'tx_c1' });
      expect(rows.slice(1).every((p) => p.settledAt !== null && p.transaction === null)).toBe(true);
      expect((await store.payments('d')).every((p) => p.settledAt === null)).toBe(true);
      expect(await store.writeOff(['c'], new Date())).toBe(0);
    });
  },
);
