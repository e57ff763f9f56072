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
import {
  type AttachedTarget,
  attachDcpTarget,
  cryptoRandom,
  DcpError,
  DcpErrorCode,
  DcpTarget,
  dcc,
  Identity,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import { EventRouter } from '../events/event-router';
import type { BankPort, CaptureBatchAnswer, CaptureRequest, HoldView } from '../ports/bank.port';
import { systemClock } from '../ports/clock';
import { openSchedulerState } from '../state/open-state';
import type { JobStore } from '../state/job-store';
import { DcpBank } from './dcp-bank';
import { applyRate, Escrow, slicePayment } from './escrow';
import { EscrowStore } from './escrow-store';

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;

/** A bank that can be down: answers like the bank's escrow service, records what it was asked. */
class FlakyBank implements BankPort {
  down = false;
  held = 0;
  increases: { amount: string; key: string }[] = [];
  #view = (): HoldView => ({
    hold: 'h1',
    held: String(this.held),
    captured: '0',
    remaining: '0',
    status: 'open',
  });
  #check() {
    if (this.down) throw new DcpError(DcpErrorCode.EPIPE, 'bank unreachable');
  }
  async hold(): Promise<HoldView> {
    this.#check();
    return this.#view();
  }
  async increase(req: { amount: string; key: string }): Promise<HoldView> {
    this.#check();
    this.increases.push(req);
    return this.#view();
  }
  async capture(): Promise<HoldView & { transaction: string }> {
    this.#check();
    return { ...this.#view(), transaction: 't' };
  }
  async captureBatch(captures: CaptureRequest[]): Promise<CaptureBatchAnswer> {
    this.#check();
    return {
      results: captures.map((c) => ({ key: c.key, status: 'settled' as const, transaction: 't' })),
      holds: [this.#view()],
    };
  }
  async release(): Promise<HoldView & { released: string }> {
    this.#check();
    return { ...this.#view(), released: '0' };
  }
  async close(): Promise<void> {}
}

describe('escrow (scheduler side)', () => {
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

  it('prices slices exactly: absolute offers, market-value multiples, commission rounded down', () => {
    expect(slicePayment({ absolutePayment: 0.0002, mvMultiplier: 0 }, 100_000n)).toBe(200_000n);
    expect(slicePayment({ absolutePayment: 0, mvMultiplier: 1.5 }, 100_000n)).toBe(150_000n);
    expect(slicePayment({ absolutePayment: 0, mvMultiplier: 0 }, 100_000n)).toBe(0n);
    expect(applyRate(100_000n, '0.05')).toBe(5_000n);
    expect(applyRate(3n, '0.5')).toBe(1n);
  });

  it('a submit whose bank does not answer fails within the hold timeout with ENOBANK; a late hold is released', async () => {
    let answer: (h: HoldView) => void = () => {};
    const released: string[] = [];
    const bank: BankPort = Object.assign(new FlakyBank(), {
      hold: () => new Promise<HoldView>((resolve) => (answer = resolve)),
      release: async (hold: string) => {
        released.push(hold);
        return { hold, held: '0', captured: '0', remaining: '0', status: 'released', released: '0' };
      },
    });
    const { store: sched } = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: quiet,
      leases: defaultTuning,
    });
    const escrow = new Escrow({
      bank,
      store: new EscrowStore(db.prisma, sched.owed),
      events: new EventRouter(sched, systemClock, cryptoRandom, quiet),
      clock: systemClock,
      identity: Identity.random(),
      logger: quiet,
      terms: { marketRate: 100_000n, commissionRate: '0.05', settleMs: 60_000, holdTimeoutMs: 200 },
      job: async () => ({ sliceCount: 1, status: 'running' }),
    });
    const account = Identity.random().address;
    const offer = {
      id: 'j-nobank',
      paymentAccount: account,
      absolutePayment: 0,
      mvMultiplier: 1,
      localExec: false,
    };
    const t0 = Date.now();
    await expect(escrow.open(offer, 3, { payload: {}, auth: {}, accessor: account })).rejects.toMatchObject({
      code: 'ENOBANK',
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await escrow.view('j-nobank')).toBeUndefined();
    // the bank answers after all: that hold is given back at once
    answer({ hold: 'late-hold', held: '1', captured: '0', remaining: '1', status: 'open' });
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toEqual(['late-hold']);
  });

  it('an upload while the bank is unreachable never fails: the job waits, then is funded by the settle loop', async () => {
    const bank = new FlakyBank();
    const { store: sched } = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: quiet,
      leases: defaultTuning,
    });
    let sliceCount = 1;
    const escrow = new Escrow({
      bank,
      store: new EscrowStore(db.prisma, sched.owed),
      events: new EventRouter(sched, systemClock, cryptoRandom, quiet),
      clock: systemClock,
      identity: Identity.random(),
      logger: quiet,
      terms: { marketRate: 100_000n, commissionRate: '0.05', settleMs: 60_000 },
      job: async () => ({ sliceCount, status: 'running' }),
    });
    const offer = {
      id: 'j-flaky',
      paymentAccount: Identity.random().address,
      absolutePayment: 0,
      mvMultiplier: 1,
      localExec: false,
    };
    await escrow.open(offer, 0, { payload: {}, auth: {}, accessor: offer.paymentAccount });
    expect((await escrow.view('j-flaky'))?.fundedSlices).toBe(1);

    bank.down = true;
    sliceCount = 5;
    await expect(escrow.fund('j-flaky', 5)).resolves.toBeUndefined();
    expect((await escrow.view('j-flaky'))?.shortSince).not.toBeNull();

    bank.down = false;
    await escrow.settle();
    const view = await escrow.view('j-flaky');
    expect(view?.shortSince).toBeNull();
    expect(view?.fundedSlices).toBe(5);
    // 4 more slices at 0.0001 + 5 % commission, under the key of that funding step
    expect(bank.increases).toEqual([{ hold: 'h1', amount: '0.00042', key: 'job:j-flaky:fund:5' }]);
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
