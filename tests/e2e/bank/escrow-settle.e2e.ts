import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BankLedger,
  ConfiguredSchedulerTrust,
  createBankLedger,
  ESCROW_PATH,
  ESCROW_SERVICE,
  escrowOperations,
  PrismaLedgerStore,
} from '@dcp-emu/bank';
import { type Database, openDatabase } from '@dcp-emu/db';
import { type AttachedTarget, attachDcpTarget, DcpTarget, dcc, Identity } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DcpBank } from '../../../apps/scheduler/src/escrow/dcp-bank';
import { Escrow } from '../../../apps/scheduler/src/escrow/escrow';
import { EscrowStore } from '../../../apps/scheduler/src/escrow/escrow-store';
import type { EventRouter } from '../../../apps/scheduler/src/events/event-router';
import { defaultTuning } from '../../../apps/scheduler/src/config';
import { systemClock } from '../../../apps/scheduler/src/ports/clock';
import type { JobStore } from '../../../apps/scheduler/src/state/job-store';
import { openSchedulerState } from '../../../apps/scheduler/src/state/open-state';

/**
 * The scheduler's escrow settle loop (apps/scheduler/src/escrow) against the real bank's escrow
 * service over DCP (apps/bank), in one process on loopback: moved here from the scheduler's escrow
 * spec because an app never imports another app.
 */

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;

describe('escrow settle loop ↔ bank escrow service over DCP', () => {
  let tdb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  describe('settle loop against the real bank over DCP', () => {
    const schedulerId = Identity.random();
    let bank: BankLedger;
    let port: DcpBank;
    let calls: Record<string, number>;
    let server: Server;
    let attached: AttachedTarget;
    const warnings: Array<{ fields: unknown; msg: string }> = [];
    const logger = {
      ...(quiet as object),
      warn: (fields: unknown, msg: string) => warnings.push({ fields, msg }),
    } as never;

    /** the job store holds the owed payments (read from sched_payments on load, as at start-up) */
    let sched: JobStore;

    beforeAll(async () => {
      ({ store: sched } = await openSchedulerState({
        prisma: db.prisma,
        location: db.location,
        logger: quiet,
        leases: defaultTuning,
      }));
      bank = createBankLedger({ store: new PrismaLedgerStore(db.prisma, db.provider) });
      const target = new DcpTarget({ identity: Identity.random(), logger: quiet });
      target.service(
        ESCROW_SERVICE,
        escrowOperations(bank, new ConfiguredSchedulerTrust([schedulerId.address])),
        {
          path: ESCROW_PATH,
        },
      );
      server = createServer();
      attached = attachDcpTarget(target, server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      port = new DcpBank(url, schedulerId, quiet);
      // count the requests the scheduler sends
      calls = {};
      for (const op of ['capture', 'captureBatch', 'increase', 'release'] as const) {
        const real = port[op].bind(port) as (...args: unknown[]) => Promise<unknown>;
        (port as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
          calls[op] = (calls[op] ?? 0) + 1;
          return real(...args);
        };
      }
    });
    afterAll(async () => {
      await port?.close();
      await attached?.close();
      await new Promise((r) => server?.close(r));
    });

    /** A job with a hold at the bank for `funded` slices and `owed` accepted results. */
    async function job(name: string, opts: { funded: number; owed: number; payerDcc?: string }) {
      const store = new EscrowStore(db.prisma, sched.owed);
      const payer = Identity.random().address;
      const workers = [Identity.random().address, Identity.random().address, Identity.random().address];
      await bank.mint.execute({ to: payer, amount: dcc(opts.payerDcc ?? '10') });
      const perSlice = dcc('0.0001');
      const commission = dcc('0.000005');
      const jobId = `${name}-${randomUUID().slice(0, 8)}`;
      const { hold } = await bank.hold.execute({
        account: payer,
        amount: (perSlice + commission) * BigInt(opts.funded),
        refs: { job: jobId },
        idempotencyKey: `job:${jobId}:hold`,
      });
      const now = new Date();
      await store.create(
        {
          jobId,
          paymentAccount: payer,
          holdId: hold.id,
          perSlice: '0.0001',
          commissionRate: '0.05',
          commissionTo: schedulerId.address,
          fundedSlices: opts.funded,
        },
        now,
      );
      await db.prisma.schedPayment.createMany({
        data: Array.from({ length: opts.owed }, (_, i) => ({
          jobId,
          sliceNumber: i + 1,
          payTo: workers[i % 3]!,
          amount: '0.0001',
          commissionTo: schedulerId.address,
          commission: '0.000005',
          worker: `w${i % 3}`,
          createdAt: new Date(now.getTime() + i),
        })),
      });
      await sched.load(); // as after a restart: the owed rows are read into memory
      const events: Array<{ job: string; name: string }> = [];
      const escrow = new Escrow({
        bank: port,
        store,
        events: {
          emitReliable: async (job: string, name: string) => {
            events.push({ job, name });
          },
        } as unknown as EventRouter,
        clock: systemClock,
        identity: schedulerId,
        logger,
        terms: { marketRate: 100_000n, commissionRate: '0.05', settleMs: 60_000 },
        job: async (id) => (id === jobId ? { sliceCount: opts.owed, status: 'running' } : undefined),
      });
      return { jobId, hold, payer, workers, escrow, store, events };
    }

    it('settles thousands of owed payments with a few batched calls, each exactly once', async () => {
      const { jobId, hold, workers, escrow, store } = await job('many', { funded: 4500, owed: 4500 });
      calls = {};
      await escrow.settle();
      expect(calls).toEqual({ captureBatch: 3 }); // 2000 + 2000 + 500, no single captures
      const payments = await store.payments(jobId);
      expect(payments.every((p) => p.settledAt && p.transaction?.startsWith('tx'))).toBe(true);
      expect(new Set(payments.map((p) => p.transaction)).size).toBe(4500);
      for (const w of workers) expect((await bank.balance.execute(w)).balance).toBe(1500n * dcc('0.0001'));
      expect((await bank.store.getHold(hold.id))?.remaining).toBe(0n);
      const journal = await bank.store.jobTransactions(jobId);
      expect(journal.filter((t) => t.reason === 'capture')).toHaveLength(4500);
      expect(await escrow.view(jobId)).toMatchObject({ owed: '0', paid: '0.4725' });

      // a lost answer: the rows are owed again, the next round replays them (nothing paid twice)
      await db.prisma.schedPayment.updateMany({
        where: { jobId },
        data: { settledAt: null, transaction: null },
      });
      await sched.load();
      calls = {};
      await escrow.settle();
      expect(calls).toEqual({ captureBatch: 3 });
      expect((await store.payments(jobId)).map((p) => p.transaction)).toEqual(
        payments.map((p) => p.transaction),
      );
      expect((await bank.store.jobTransactions(jobId)).filter((t) => t.reason === 'capture')).toHaveLength(
        4500,
      );
      for (const w of workers) expect((await bank.balance.execute(w)).balance).toBe(1500n * dcc('0.0001'));
    });

    it('tops a short hold up once for the payments it could not cover, then settles them', async () => {
      const { jobId, hold, escrow, store, events } = await job('short', { funded: 2, owed: 10 });
      calls = {};
      await escrow.settle();
      expect(calls).toEqual({ captureBatch: 2, increase: 1 });
      expect((await store.payments(jobId)).every((p) => p.transaction)).toBe(true);
      expect((await bank.store.getHold(hold.id))?.remaining).toBe(0n);
      expect(events).toEqual([]);
    });

    it('pauses a job whose account is dry; its payments wait and the round ends', async () => {
      const { jobId, escrow, store, events } = await job('dry', { funded: 2, owed: 6, payerDcc: '0.00021' });
      calls = {};
      await escrow.settle();
      // the top-up for the refused payments, then the round's top-up of short running jobs
      expect(calls).toEqual({ captureBatch: 1, increase: 2 });
      const payments = await store.payments(jobId);
      expect(payments.filter((p) => p.settledAt)).toHaveLength(2);
      expect((await store.get(jobId))?.shortSince).not.toBeNull();
      expect(events).toEqual([{ job: jobId, name: 'nofunds' }]);
      // the next round tries once more (one batch, one top-up), without telling the client again
      calls = {};
      await escrow.settle();
      expect(calls.captureBatch).toBe(1);
      expect(events).toHaveLength(1);
      // (the escrow settles every job: take this one's waiting payments out of the later tests)
      await db.prisma.schedPayment.deleteMany({ where: { jobId } });
      await sched.load();
    });

    it('writes off once what a released hold still owes, then stops asking the bank', async () => {
      const { jobId, hold, workers, escrow, store } = await job('gone', { funded: 5, owed: 5 });
      await bank.release.execute(hold.id); // cancelled: the bank gave the rest back
      warnings.length = 0;
      calls = {};
      await escrow.settle();
      expect(calls).toEqual({ captureBatch: 1 });
      const payments = await store.payments(jobId);
      expect(payments.every((p) => p.settledAt && p.transaction === null)).toBe(true);
      expect(warnings.filter((w) => w.msg.includes('written off'))).toHaveLength(1);
      expect(await escrow.view(jobId)).toMatchObject({ owed: '0', paid: '0', released: true });
      for (const w of workers) expect(await bank.store.getAccount(w.toLowerCase() as never)).toBeNull(); // never paid

      calls = {};
      await escrow.settle();
      await escrow.settle();
      expect(calls).toEqual({});
      expect(warnings.filter((w) => w.msg.includes('written off'))).toHaveLength(1);

      // an owed payment of a hold the bank has never heard of (a restored database) goes the same way
      const lost = await job('lost', { funded: 1, owed: 1 });
      await lost.store.update(lost.jobId, { holdId: 'hold_unknown' }, new Date());
      calls = {};
      await lost.escrow.settle();
      expect(calls).toEqual({ captureBatch: 1 });
      expect((await lost.store.payments(lost.jobId))[0]).toMatchObject({ transaction: null });
      expect((await lost.store.payments(lost.jobId))[0]?.settledAt).not.toBeNull();
    });
  });
});
