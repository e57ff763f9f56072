import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { formatDcc, UNITS_PER_DCC } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import { createBankLedger } from './bank-ledger';
import { randomAddress, STORE_KINDS, useLedgerStore } from './ledger-stores.test';

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    /** up to `max` DCC with 9 random decimals (sometimes tiny, sometimes whole) */
    units: (maxDcc: number): bigint =>
      BigInt(Math.floor(next() * maxDcc * 1e6)) * 1000n + BigInt(Math.floor(next() * 1000)) + 1n,
    chance: (p: number) => next() < p,
  };
}

/** The outcomes a random operation may legitimately have besides success. */
// ENOACCOUNT: a fresh address may be spent from before the transfer that opens it has run.
const EXPECTED_REFUSALS = new Set<string>([
  DcpErrorCode.ENOFUNDS,
  DcpErrorCode.EJOBSTATE,
  DcpErrorCode.EDUP,
  DcpErrorCode.ENOACCOUNT,
]);

const SEED = Number(process.env.BANK_PROPERTY_SEED ?? 0x5eed);
const BATCHES = 8;
const OPS_PER_BATCH = 250;

describe.each(STORE_KINDS)('ledger properties under random concurrent load (%s)', (kind) => {
  const ctx = useLedgerStore(kind);

  it(`keeps Σ balances + Σ open holds = Σ minted, no negatives, every transaction balanced (seed ${SEED})`, async () => {
    const ledger = createBankLedger({ store: ctx.store });
    const rnd = prng(SEED);
    const users = Array.from({ length: 30 }, () => randomAddress());
    const commission = randomAddress();
    let minted = 0n;
    for (const to of users) {
      await ledger.mint.execute({ to, amount: 100n * UNITS_PER_DCC });
      minted += 100n * UNITS_PER_DCC;
    }
    const holds: string[] = [];
    const capturedKeys = new Set<string>();
    let operations = 0;
    let refusals = 0;
    let batchRefusals = 0;
    let batchSettled = 0;

    for (let batch = 0; batch < BATCHES; batch++) {
      const openHolds = [...holds];
      const ops: Array<() => Promise<unknown>> = [];
      for (let i = 0; i < OPS_PER_BATCH; i++) {
        const roll = rnd.int(100);
        if (roll < 30) {
          const from = rnd.pick(users);
          const to = rnd.chance(0.1) ? randomAddress() : rnd.pick(users.filter((u) => u !== from));
          if (!users.includes(to)) users.push(to);
          const amount = rnd.units(30);
          ops.push(() => ledger.transfer.execute({ from, to, amount }));
        } else if (roll < 45) {
          const account = rnd.pick(users);
          const amount = rnd.units(40);
          ops.push(async () => {
            const { hold } = await ledger.hold.execute({
              account,
              amount,
              refs: { job: `job-${batch}-${i}` },
            });
            holds.push(hold.id);
          });
        } else if (roll < 60 && openHolds.length > 0) {
          // a settlement batch over several holds, sharing the single captures' key space
          const items = Array.from({ length: 1 + rnd.int(12) }, () => {
            const hold = rnd.pick(openHolds);
            const slice = rnd.int(6);
            const cut = rnd.chance(0.5) ? { to: commission, amount: BigInt(slice) * 1_000_000n } : undefined;
            return {
              hold,
              key: `${hold}:${slice}`,
              payment: {
                to: rnd.pick(users),
                amount: BigInt(slice + 1) * 10_000_000n,
                ...(cut ? { commission: cut } : {}),
                slice,
              },
            };
          });
          ops.push(async () => {
            const { outcomes } = await ledger.captureBatch.execute(items);
            outcomes.forEach((o, j) => {
              const key = items[j]!.key;
              if (o.status === 'settled') {
                expect(capturedKeys.has(key)).toBe(false);
                capturedKeys.add(key);
                batchSettled++;
              } else if (o.status === 'failed') {
                if (!EXPECTED_REFUSALS.has(o.error.code)) throw o.error;
                batchRefusals++;
              }
            });
          });
        } else if (roll < 75 && openHolds.length > 0) {
          const hold = rnd.pick(openHolds);
          // a small key space per hold: retries and racing duplicates of one slice are common
          const slice = rnd.int(6);
          const key = `${hold}:${slice}`;
          const to = rnd.pick(users);
          const amount = BigInt(slice + 1) * 10_000_000n;
          const cut = rnd.chance(0.5) ? { to: commission, amount: BigInt(slice) * 1_000_000n } : undefined;
          ops.push(async () => {
            const r = await ledger.capture.execute(
              hold,
              { to, amount, ...(cut ? { commission: cut } : {}), slice },
              key,
            );
            if (!r.replayed) {
              expect(capturedKeys.has(key)).toBe(false);
              capturedKeys.add(key);
            }
          });
        } else if (roll < 82 && openHolds.length > 0) {
          const hold = rnd.pick(openHolds);
          ops.push(() => ledger.increaseHold.execute(hold, rnd.units(5)));
        } else if (roll < 92 && openHolds.length > 0) {
          const hold = rnd.pick(openHolds);
          ops.push(() => ledger.release.execute(hold));
        } else {
          const to = rnd.pick(users);
          const amount = rnd.units(10);
          ops.push(async () => {
            await ledger.mint.execute({ to, amount });
            minted += amount;
          });
        }
      }
      const results = await Promise.allSettled(ops.map((op) => op()));
      operations += results.length;
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        const e = r.reason;
        if (!(e instanceof DcpError) || !EXPECTED_REFUSALS.has(e.code)) throw e;
        refusals++;
      }

      const snapshot = await ctx.store.snapshot();
      const audit = auditLedger(snapshot);
      expect(audit.problems, `batch ${batch}`).toEqual([]);
      expect(audit.minted).toBe(audit.balances + audit.held);
      // this ledger's store may hold other specs' accounts: compare only what this test minted
      const mine = new Set([...users, commission].map((u) => u.toLowerCase()));
      const myBalances = snapshot.accounts.filter((a) => mine.has(a.id)).reduce((s, a) => s + a.balance, 0n);
      const myHeld = snapshot.holds
        .filter((h) => h.status === 'open' && mine.has(h.account))
        .reduce((s, h) => s + h.remaining, 0n);
      expect(formatDcc(myBalances + myHeld)).toBe(formatDcc(minted));
      const captures = snapshot.transactions.filter(
        (t) => t.reason === 'capture' && capturedKeys.has(t.idempotencyKey!),
      );
      expect(captures).toHaveLength(capturedKeys.size);
    }
    expect(operations).toBe(BATCHES * OPS_PER_BATCH);
    // the load really exercised both paths
    expect(capturedKeys.size).toBeGreaterThan(50);
    expect(refusals).toBeGreaterThan(10);
    expect(refusals).toBeLessThan(operations / 2);
    expect(batchSettled).toBeGreaterThan(20);
    expect(batchRefusals).toBeGreaterThan(10);
  }, 240_000); // thousands of database transactions: generous on a loaded machine

  it('rejects forged, negative and malformed amounts and unknown accounts or holds, leaving the ledger unchanged', async () => {
    const ledger = createBankLedger({ store: ctx.store });
    const rich = randomAddress();
    await ledger.mint.execute({ to: rich, amount: 50n * UNITS_PER_DCC });
    const { hold } = await ledger.hold.execute({ account: rich, amount: 10n * UNITS_PER_DCC });
    const before = await ctx.store.snapshot();
    const ghost = randomAddress();
    const forged: Array<[string, () => Promise<unknown>]> = [
      [DcpErrorCode.EINVAL, () => ledger.transfer.execute({ from: rich, to: ghost, amount: -1n })],
      [DcpErrorCode.EINVAL, () => ledger.transfer.execute({ from: rich, to: ghost, amount: 0n })],
      [DcpErrorCode.EINVAL, () => ledger.transfer.execute({ from: rich, to: ghost, amount: 2n ** 64n })],
      [
        DcpErrorCode.EINVAL,
        () => ledger.transfer.execute({ from: rich, to: ghost, amount: 0.5 as unknown as bigint }),
      ],
      [DcpErrorCode.EINVAL, () => ledger.transfer.execute({ from: rich, to: 'system:issuance', amount: 1n })],
      [DcpErrorCode.EINVAL, () => ledger.transfer.execute({ from: `${rich}00`, to: ghost, amount: 1n })],
      [DcpErrorCode.ENOACCOUNT, () => ledger.transfer.execute({ from: ghost, to: rich, amount: 1n })],
      [
        DcpErrorCode.ENOFUNDS,
        () => ledger.transfer.execute({ from: rich, to: ghost, amount: 41n * UNITS_PER_DCC }),
      ],
      [DcpErrorCode.ENOACCOUNT, () => ledger.hold.execute({ account: ghost, amount: 1n })],
      [DcpErrorCode.EINVAL, () => ledger.hold.execute({ account: rich, amount: -(10n ** 9n) })],
      [
        DcpErrorCode.ENOFUNDS,
        () => ledger.capture.execute(hold.id, { to: ghost, amount: 10n * UNITS_PER_DCC + 1n }, 'f1'),
      ],
      [
        DcpErrorCode.EINVAL,
        () =>
          ledger.capture.execute(
            hold.id,
            { to: ghost, amount: 5n, commission: { to: rich, amount: -5n } },
            'f2',
          ),
      ],
      [DcpErrorCode.ENOENT, () => ledger.capture.execute('hold_forged', { to: ghost, amount: 5n }, 'f3')],
      [DcpErrorCode.ENOENT, () => ledger.release.execute('hold_forged')],
      [DcpErrorCode.EINVAL, () => ledger.mint.execute({ to: ghost, amount: -5n })],
      [DcpErrorCode.EINVAL, () => ledger.mint.execute({ to: ghost, amount: 10_000n * UNITS_PER_DCC })],
    ];
    const batch = await ledger.captureBatch.execute([
      { hold: hold.id, key: 'f4', payment: { to: ghost, amount: 10n * UNITS_PER_DCC + 1n } },
      { hold: hold.id, key: 'f5', payment: { to: ghost, amount: 5n, commission: { to: rich, amount: -5n } } },
      { hold: 'hold_forged', key: 'f6', payment: { to: ghost, amount: 5n } },
      { hold: hold.id, key: 'f7', payment: { to: 'system:issuance', amount: 5n } }, // not an address
      { hold: hold.id, key: 'f8', payment: { to: ghost, amount: 2n ** 64n } },
    ]);
    expect(batch.outcomes.map((o) => (o.status === 'failed' ? o.error.code : o.status))).toEqual([
      DcpErrorCode.ENOFUNDS,
      DcpErrorCode.EINVAL,
      DcpErrorCode.ENOENT,
      DcpErrorCode.EINVAL,
      DcpErrorCode.EINVAL,
    ]);
    const outcomes = await Promise.allSettled(forged.map(([, op]) => op()));
    outcomes.forEach((outcome, i) => {
      expect(outcome.status, `case ${i}`).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason, `case ${i}`).toBeInstanceOf(DcpError);
      expect((reason as DcpError).code, `case ${i}: ${(reason as Error).message}`).toBe(forged[i]![0]);
      expect((reason as DcpError).message.length).toBeGreaterThan(10);
    });
    expect(await ctx.store.snapshot()).toEqual(before);
  });
});
