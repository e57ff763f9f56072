import { type Database, openDatabase } from '@dcp-emu/db';
import { cryptoRandom, DcpError, DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
import { EventRouter } from '../events/event-router';
import type { BankPort, CaptureBatchAnswer, CaptureRequest, HoldView } from '../ports/bank.port';
import { systemClock } from '../ports/clock';
import { openSchedulerState } from '../state/open-state';
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

// The settle loop against the real bank over DCP: tests/e2e/bank/escrow-settle.e2e.ts (an app does
// not import another app, tests/ may).
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
});
