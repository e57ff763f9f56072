import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { createBankLedger } from '../accounts/bank-ledger';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from '../accounts/ledger-stores.test';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';

describe.each(STORE_KINDS)('escrow for the scheduler (%s)', (kind) => {
  const ctx = useLedgerStore(kind);
  const ledger = () => createBankLedger({ store: ctx.store });
  const balanceOf = async (address: string) => (await ctx.store.getAccount(asAccount(address)))?.balance;

  async function funded(amount: string): Promise<string> {
    const address = randomAddress();
    await ledger().mint.execute({ to: address, amount: dcc(amount) });
    return address;
  }

  it('holds, captures slice payments with commission, and releases the rest', async () => {
    const payer = await funded('10');
    const worker = randomAddress();
    const scheduler = randomAddress();
    const { hold } = await ledger().hold.execute({
      account: payer,
      amount: dcc('3'),
      refs: { job: 'job-a' },
    });
    expect(hold).toMatchObject({
      status: 'open',
      held: dcc('3'),
      remaining: dcc('3'),
      refs: { job: 'job-a' },
    });
    expect(await balanceOf(payer)).toBe(dcc('7'));

    for (let slice = 1; slice <= 4; slice++) {
      const { hold: after, transaction } = await ledger().capture.execute(
        hold.id,
        {
          to: worker,
          amount: dcc('0.5'),
          commission: { to: scheduler, amount: dcc('0.05') },
          slice,
          worker: 'w1',
        },
        `job-a:${slice}`,
      );
      expect(transaction).toMatchObject({
        reason: 'capture',
        refs: { job: 'job-a', hold: hold.id, slice, worker: 'w1' },
      });
      expect(after.remaining).toBe(dcc('3') - BigInt(slice) * dcc('0.55'));
    }
    expect(await balanceOf(worker)).toBe(dcc('2'));
    expect(await balanceOf(scheduler)).toBe(dcc('0.2'));

    const released = await ledger().release.execute(hold.id);
    expect(released.released).toBe(dcc('0.8'));
    expect(released.hold).toMatchObject({
      status: 'released',
      captured: dcc('2.2'),
      released: dcc('0.8'),
      remaining: 0n,
    });
    expect(released.transaction?.reason).toBe('release');
    expect(await balanceOf(payer)).toBe(dcc('7.8'));

    const history = await ledger().history.execute(payer);
    expect(history.entries.map((e) => [e.transaction.reason, e.delta])).toEqual([
      ['release', dcc('0.8')],
      ['hold', -dcc('3')],
      ['mint', dcc('10')],
    ]);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('never pays a retried capture twice, even when the retries race', async () => {
    const payer = await funded('5');
    const worker = randomAddress();
    const { hold } = await ledger().hold.execute({
      account: payer,
      amount: dcc('5'),
      refs: { job: 'job-b' },
    });
    const pay = { to: worker, amount: dcc('1'), slice: 7 };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => ledger().capture.execute(hold.id, pay, 'job-b:7')),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect(await balanceOf(worker)).toBe(dcc('1'));
    expect((await ctx.store.getHold(hold.id))?.remaining).toBe(dcc('4'));
    await expect(
      ledger().capture.execute(hold.id, { ...pay, amount: dcc('2') }, 'job-b:7'),
    ).rejects.toMatchObject({ code: DcpErrorCode.EDUP });
    // a retry after the hold ran dry still replays instead of failing
    await ledger().capture.execute(hold.id, { to: worker, amount: dcc('4') }, 'job-b:8');
    expect((await ledger().capture.execute(hold.id, pay, 'job-b:7')).replayed).toBe(true);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('refuses a hold the account cannot cover with ENOFUNDS and unknown accounts with ENOACCOUNT', async () => {
    const payer = await funded('1');
    const before = await ctx.store.snapshot();
    await expect(ledger().hold.execute({ account: payer, amount: dcc('1.000000001') })).rejects.toMatchObject(
      {
        code: DcpErrorCode.ENOFUNDS,
      },
    );
    await expect(ledger().hold.execute({ account: randomAddress(), amount: 1n })).rejects.toMatchObject({
      code: DcpErrorCode.ENOACCOUNT,
    });
    await expect(ledger().hold.execute({ account: payer, amount: -1n })).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
    expect(await ctx.store.snapshot()).toEqual(before);
  });

  it('refuses captures beyond the hold, on released or unknown holds, and forged payments, changing nothing', async () => {
    const payer = await funded('2');
    const worker = randomAddress();
    const { hold } = await ledger().hold.execute({ account: payer, amount: dcc('1') });
    const before = await ctx.store.snapshot();
    await expect(
      ledger().capture.execute(
        hold.id,
        { to: worker, amount: dcc('0.9'), commission: { to: worker, amount: dcc('0.2') } },
        'k1',
      ),
    ).rejects.toMatchObject({ code: DcpErrorCode.ENOFUNDS });
    await expect(ledger().capture.execute(hold.id, { to: worker, amount: -5n }, 'k2')).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
    await expect(ledger().capture.execute(hold.id, { to: 'nobody', amount: 5n }, 'k3')).rejects.toMatchObject(
      {
        code: DcpErrorCode.EINVAL,
      },
    );
    await expect(
      ledger().capture.execute('hold_missing', { to: worker, amount: 5n }, 'k4'),
    ).rejects.toMatchObject({
      code: DcpErrorCode.ENOENT,
    });
    await expect(ledger().capture.execute(hold.id, { to: worker, amount: 5n }, '')).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
    expect(await ctx.store.snapshot()).toEqual(before);

    await ledger().release.execute(hold.id);
    await expect(ledger().capture.execute(hold.id, { to: worker, amount: 5n }, 'k5')).rejects.toMatchObject({
      code: DcpErrorCode.EJOBSTATE,
    });
    await expect(ledger().increaseHold.execute(hold.id, 5n)).rejects.toMatchObject({
      code: DcpErrorCode.EJOBSTATE,
    });
    await expect(ledger().release.execute('hold_missing')).rejects.toMatchObject({
      code: DcpErrorCode.ENOENT,
    });
  });

  it('tops up an open hold from the account, and releases a hold only once', async () => {
    const payer = await funded('4');
    const { hold } = await ledger().hold.execute({
      account: payer,
      amount: dcc('1'),
      idempotencyKey: `escrow:${payer}`,
    });
    const again = await ledger().hold.execute({
      account: payer,
      amount: dcc('1'),
      idempotencyKey: `escrow:${payer}`,
    });
    expect(again.replayed).toBe(true);
    expect(again.hold.id).toBe(hold.id);
    const topped = await ledger().increaseHold.execute(hold.id, dcc('2'), `escrow:${payer}:2`);
    expect(topped.hold).toMatchObject({ held: dcc('3'), remaining: dcc('3') });
    await expect(ledger().increaseHold.execute(hold.id, dcc('2'))).rejects.toMatchObject({
      code: DcpErrorCode.ENOFUNDS,
    });
    expect(await balanceOf(payer)).toBe(dcc('1'));
    const releases = await Promise.all([
      ledger().release.execute(hold.id),
      ledger().release.execute(hold.id),
    ]);
    expect(releases.map((r) => r.released).sort()).toEqual([0n, dcc('3')]);
    expect(await balanceOf(payer)).toBe(dcc('4'));
    const view = await ledger().balance.execute(payer);
    expect(view).toEqual({ address: asAccount(payer), balance: dcc('4'), held: 0n, openHolds: 0 });
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });
});
