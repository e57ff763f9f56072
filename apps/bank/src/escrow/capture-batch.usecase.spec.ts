import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { createBankLedger } from '../accounts/bank-ledger';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from '../accounts/ledger-stores.test';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import type { LedgerStore, Settlement } from '../ledger/store';
import type { BatchCapture } from './capture-batch.usecase';

/** The real store, counting settlement writes and interactive transactions. */
function counting(store: LedgerStore) {
  const n = { settles: 0, transactions: 0 };
  const wrapped: LedgerStore = Object.create(store);
  wrapped.settle = (s: Settlement) => {
    n.settles++;
    return store.settle(s);
  };
  wrapped.transaction = (fn) => {
    n.transactions++;
    return store.transaction(fn);
  };
  return { store: wrapped, n };
}

describe.each(STORE_KINDS)('captureBatch: many captures, one ledger transaction (%s)', (kind) => {
  const ctx = useLedgerStore(kind);
  const scheduler = randomAddress();

  async function jobWithHold(amount: string) {
    const ledger = createBankLedger({ store: ctx.store });
    const payer = randomAddress();
    await ledger.mint.execute({ to: payer, amount: dcc('1000') });
    const { hold } = await ledger.hold.execute({ account: payer, amount: dcc(amount) });
    return { ledger, payer, hold };
  }
  const capture = (hold: string, job: string, slice: number, to: string, amount = '0.1'): BatchCapture => ({
    hold,
    key: `job:${job}:slice:${slice}`,
    payment: {
      to,
      amount: dcc(amount),
      commission: { to: scheduler, amount: dcc('0.01') },
      slice,
      worker: 'w',
    },
  });

  it('settles a batch in one write without interactive transactions, exactly once per key', async () => {
    const { hold } = await jobWithHold('200');
    const counter = counting(ctx.store);
    const ledger = createBankLedger({ store: counter.store });
    const workers = [randomAddress(), randomAddress(), randomAddress(), randomAddress()];
    const items = Array.from({ length: 1000 }, (_, i) => capture(hold.id, 'a', i + 1, workers[i % 4]!));
    const before = (await ctx.store.getAccount(asAccount(scheduler)))?.balance ?? 0n;
    const first = await ledger.captureBatch.execute(items);
    expect(counter.n).toEqual({ settles: 1, transactions: 0 });
    expect(first.outcomes.every((o) => o.status === 'settled')).toBe(true);
    const ids = first.outcomes.map((o) => (o.status === 'failed' ? '' : o.transaction));
    expect(new Set(ids).size).toBe(1000);
    expect(first.holds[0]?.remaining).toBe(dcc('200') - 1000n * dcc('0.11'));
    for (const w of workers) expect((await ctx.store.getAccount(asAccount(w)))?.balance).toBe(dcc('25'));
    expect((await ctx.store.getAccount(asAccount(scheduler)))?.balance).toBe(before + dcc('10'));
    // the journal rows carry their postings and references
    const t = await ctx.store.getTransaction(ids[7]!);
    expect(t?.refs).toMatchObject({ slice: 8, worker: 'w', hold: hold.id });
    expect(t?.postings.map((p) => p.amount).sort()).toEqual([-dcc('0.11'), dcc('0.01'), dcc('0.1')].sort());

    // replayed: same transactions, nothing moves, nothing written
    const again = await ledger.captureBatch.execute(items);
    expect(again.outcomes.map((o) => o.status === 'replayed' && o.transaction)).toEqual(ids);
    expect(counter.n.settles).toBe(1);
    for (const w of workers) expect((await ctx.store.getAccount(asAccount(w)))?.balance).toBe(dcc('25'));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('answers each item of a mixed batch on its own; refused items move nothing', async () => {
    const { ledger, hold } = await jobWithHold('0.5');
    const released = await jobWithHold('1');
    await released.ledger.release.execute(released.hold.id);
    const worker = randomAddress();
    const done = await ledger.captureBatch.execute([capture(hold.id, 'b', 1, worker)]);
    expect(done.outcomes[0]?.status).toBe('settled');
    const items: BatchCapture[] = [
      capture(hold.id, 'b', 1, worker), // already settled → replayed
      capture(hold.id, 'b', 2, worker),
      capture(hold.id, 'b', 2, worker), // repeated in the batch → the same transaction
      { ...capture(hold.id, 'b', 3, worker), payment: { to: worker, amount: dcc('0.2'), slice: 3 } },
      capture(hold.id, 'b', 4, worker), // 0.11 + 0.11 + 0.2 + 0.11 > 0.5 → ENOFUNDS
      capture(hold.id, 'b', 1, worker, '0.05'), // the key of another payment → EDUP
      capture(released.hold.id, 'c', 1, worker), // released hold → EJOBSTATE
      capture('hold_unknown', 'd', 1, worker), // ENOENT
      { ...capture(hold.id, 'b', 5, worker), payment: { to: 'not an address', amount: 1n } }, // EINVAL
      { ...capture(hold.id, 'b', 6, worker), payment: { to: worker, amount: 0n } }, // EINVAL
      { ...capture(hold.id, 'b', 7, worker), key: '' }, // EINVAL
      { ...capture(hold.id, 'b', 8, worker), payment: { to: worker, amount: dcc('0.01') } }, // fits
    ];
    const result = await ledger.captureBatch.execute(items);
    const summary = result.outcomes.map((o) => (o.status === 'failed' ? o.error.code : o.status));
    expect(summary).toEqual([
      'replayed',
      'settled',
      'replayed',
      'settled',
      DcpErrorCode.ENOFUNDS,
      DcpErrorCode.EDUP,
      DcpErrorCode.EJOBSTATE,
      DcpErrorCode.ENOENT,
      DcpErrorCode.EINVAL,
      DcpErrorCode.EINVAL,
      DcpErrorCode.EINVAL,
      'settled',
    ]);
    const txOf = (o: (typeof result.outcomes)[number] | undefined) =>
      o && o.status !== 'failed' ? o.transaction : undefined;
    expect(txOf(result.outcomes[0])).toBe(txOf(done.outcomes[0]));
    expect(txOf(result.outcomes[2])).toBe(txOf(result.outcomes[1]));
    expect((await ctx.store.getAccount(asAccount(worker)))?.balance).toBe(dcc('0.41'));
    const after = await ctx.store.getHold(hold.id);
    expect(after?.remaining).toBe(dcc('0.5') - dcc('0.11') - dcc('0.11') - dcc('0.2') - dcc('0.01'));
    expect(result.holds.find((h) => h.id === hold.id)).toEqual(after);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('plans again when a capture or release commits between reading and writing', async () => {
    const { ledger, hold } = await jobWithHold('1');
    const worker = randomAddress();
    let raced = false;
    const racing: LedgerStore = Object.create(ctx.store);
    racing.settle = async (s) => {
      if (!raced) {
        raced = true;
        // a single capture takes most of the hold right before the batch writes
        await ledger.capture.execute(
          hold.id,
          { to: worker, amount: dcc('0.9'), slice: 99 },
          'job:e:slice:99',
        );
      }
      return ctx.store.settle(s);
    };
    const batch = createBankLedger({ store: racing });
    const result = await batch.captureBatch.execute([
      capture(hold.id, 'e', 1, worker, '0.05'),
      capture(hold.id, 'e', 2, worker, '0.05'),
    ]);
    expect(result.outcomes.map((o) => (o.status === 'failed' ? o.error.code : o.status))).toEqual([
      'settled',
      DcpErrorCode.ENOFUNDS,
    ]);
    expect((await ctx.store.getHold(hold.id))?.remaining).toBe(dcc('1') - dcc('0.9') - dcc('0.06'));

    // released meanwhile: everything is EJOBSTATE, nothing paid
    let released = false;
    racing.settle = async (s) => {
      if (!released) {
        released = true;
        await ledger.release.execute(hold.id);
      }
      return ctx.store.settle(s);
    };
    const late = await batch.captureBatch.execute([capture(hold.id, 'e', 3, worker, '0.01')]);
    expect(late.outcomes[0]?.status === 'failed' && late.outcomes[0].error.code).toBe(DcpErrorCode.EJOBSTATE);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('runs concurrent batches and single captures on one hold without paying a key twice', async () => {
    const { ledger, hold } = await jobWithHold('10');
    const workers = [randomAddress(), randomAddress()];
    const items = Array.from({ length: 80 }, (_, i) => capture(hold.id, 'f', i + 1, workers[i % 2]!, '0.05'));
    // overlapping batches (every key in two of them) and single captures of the same keys
    const results = await Promise.all([
      ledger.captureBatch.execute(items.slice(0, 50)),
      ledger.captureBatch.execute(items.slice(30, 80)),
      ledger.captureBatch.execute([...items.slice(0, 30), ...items.slice(50, 80)]),
      ...items.slice(0, 10).map((c) => ledger.capture.execute(c.hold, c.payment, c.key)),
    ]);
    const byKey = new Map<string, Set<string>>();
    for (const r of results.slice(0, 3) as Awaited<ReturnType<typeof ledger.captureBatch.execute>>[])
      for (const o of r.outcomes) expect(o.status).not.toBe('failed');
    for (const [i, r] of results.entries()) {
      if (i < 3) continue;
      const single = r as Awaited<ReturnType<typeof ledger.capture.execute>>;
      byKey.set(single.transaction.idempotencyKey!, new Set([single.transaction.id]));
    }
    const journal = (await ctx.store.snapshot()).transactions.filter((t) => t.refs.hold === hold.id);
    const captures = journal.filter((t) => t.reason === 'capture');
    expect(captures).toHaveLength(80);
    expect(new Set(captures.map((t) => t.idempotencyKey)).size).toBe(80);
    for (const w of workers) expect((await ctx.store.getAccount(asAccount(w)))?.balance).toBe(dcc('2'));
    expect((await ctx.store.getHold(hold.id))?.remaining).toBe(dcc('10') - 80n * dcc('0.06'));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });
});
