import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from '../accounts/ledger-stores.test';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import { randomIds, systemClock } from '../ledger/ports';
import type { LedgerStore } from '../ledger/store';
import { createBankLedger } from '../accounts/bank-ledger';
import { CaptureUseCase } from './capture.usecase';

/** The real store, counting the database transactions it runs. */
function counting(store: LedgerStore): { store: LedgerStore; transactions: () => number } {
  let n = 0;
  const wrapped: LedgerStore = Object.create(store);
  wrapped.transaction = (fn) => {
    n++;
    return store.transaction(fn);
  };
  return { store: wrapped, transactions: () => n };
}

describe.each(STORE_KINDS)('batched slice settlement (%s)', (kind) => {
  const ctx = useLedgerStore(kind);

  async function jobWithHold(amount: string) {
    const ledger = createBankLedger({ store: ctx.store });
    const payer = randomAddress();
    await ledger.mint.execute({ to: payer, amount: dcc('100') });
    const { hold } = await ledger.hold.execute({ account: payer, amount: dcc(amount) });
    return { ledger, payer, hold };
  }

  it('writes concurrent captures in one transaction and pays each exactly once', async () => {
    const { hold } = await jobWithHold('10');
    const counter = counting(ctx.store);
    const capture = new CaptureUseCase({ store: counter.store, clock: systemClock, ids: randomIds });
    const workers = [randomAddress(), randomAddress(), randomAddress()];
    const scheduler = randomAddress();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, slice) =>
        capture.execute(
          hold.id,
          {
            to: workers[slice % 3]!,
            amount: dcc('0.1'),
            commission: { to: scheduler, amount: dcc('0.01') },
            slice,
          },
          `job:${slice}`,
        ),
      ),
    );
    expect(counter.transactions()).toBeLessThanOrEqual(2);
    expect(capture.stats.fallbacks).toBe(0);
    expect(results.every((r) => !r.replayed)).toBe(true);
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(60);
    expect(results.map((r) => r.transaction.refs.slice)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const w of workers) expect((await ctx.store.getAccount(asAccount(w)))?.balance).toBe(dcc('2'));
    expect((await ctx.store.getAccount(asAccount(scheduler)))?.balance).toBe(dcc('0.6'));
    expect((await ctx.store.getHold(hold.id))?.remaining).toBe(dcc('3.4'));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('refuses what the hold cannot cover and reused keys inside a batch, settling the rest', async () => {
    const { hold } = await jobWithHold('0.6');
    const released = await jobWithHold('1');
    await released.ledger.release.execute(released.hold.id);
    const capture = new CaptureUseCase({ store: ctx.store, clock: systemClock, ids: randomIds });
    const worker = randomAddress();
    const pay = (slice: number) => ({ to: worker, amount: dcc('0.1'), slice });
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, slice) => capture.execute(hold.id, pay(slice), `k:${slice}`)),
      capture.execute(hold.id, pay(0), 'k:0'),
      capture.execute(hold.id, { ...pay(0), amount: dcc('0.2') }, 'k:0'),
      capture.execute(released.hold.id, pay(1), 'r:1'),
      capture.execute('hold_unknown', pay(1), 'u:1'),
    ]);
    const codes = outcomes.map((o) =>
      o.status === 'fulfilled' ? (o.value.replayed ? 'replay' : 'ok') : o.reason.code,
    );
    expect(codes).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      DcpErrorCode.ENOFUNDS,
      DcpErrorCode.ENOFUNDS,
      'replay',
      DcpErrorCode.EDUP,
      DcpErrorCode.EJOBSTATE,
      DcpErrorCode.ENOENT,
    ]);
    const first = outcomes[0] as PromiseFulfilledResult<{ transaction: { id: string } }>;
    const replay = outcomes[8] as PromiseFulfilledResult<{ transaction: { id: string } }>;
    expect(replay.value.transaction.id).toBe(first.value.transaction.id);
    expect((await ctx.store.getAccount(asAccount(worker)))?.balance).toBe(dcc('0.6'));
    expect((await ctx.store.getHold(hold.id))?.remaining).toBe(0n);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('settles each capture on its own when a batch write fails as a whole', async () => {
    const { hold } = await jobWithHold('1');
    let failures = 1;
    const flaky: LedgerStore = Object.create(ctx.store);
    flaky.transaction = (fn) =>
      ctx.store.transaction((tx) => {
        const wrapped = Object.create(tx) as typeof tx;
        wrapped.appendMany = async (txs) => {
          if (failures-- > 0) throw new Error('injected write failure');
          return tx.appendMany(txs);
        };
        return fn(wrapped);
      });
    const capture = new CaptureUseCase({ store: flaky, clock: systemClock, ids: randomIds });
    const worker = randomAddress();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, slice) =>
        capture.execute(hold.id, { to: worker, amount: dcc('0.2') }, `f:${slice}`),
      ),
    );
    expect(capture.stats.fallbacks).toBe(1);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason.code))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      DcpErrorCode.ENOFUNDS,
    ]);
    expect((await ctx.store.getAccount(asAccount(worker)))?.balance).toBe(dcc('1'));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('settles captures one by one when batching is off, with the same results', async () => {
    const { hold } = await jobWithHold('1');
    const counter = counting(ctx.store);
    const capture = new CaptureUseCase(
      { store: counter.store, clock: systemClock, ids: randomIds },
      { maxBatch: 1 },
    );
    const worker = randomAddress();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, slice) =>
        capture.execute(hold.id, { to: worker, amount: dcc('0.2') }, `s:${slice}`),
      ),
    );
    expect(counter.transactions()).toBe(5);
    expect(results.at(-1)?.hold.remaining).toBe(0n);
    expect((await ctx.store.getAccount(asAccount(worker)))?.balance).toBe(dcc('1'));
  });
});
