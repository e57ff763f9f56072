import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import { createBankLedger } from './bank-ledger';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from './ledger-stores.test';

describe.each(STORE_KINDS)('transfers (%s)', (kind) => {
  const ctx = useLedgerStore(kind);
  const ledger = () => createBankLedger({ store: ctx.store });

  async function funded(amount: string): Promise<string> {
    const address = randomAddress();
    await ledger().mint.execute({ to: address, amount: dcc(amount) });
    return address;
  }

  it('moves DCC in one balanced transaction and opens the target account', async () => {
    const from = await funded('10');
    const to = randomAddress();
    const { transaction } = await ledger().transfer.execute({
      from: from.toUpperCase().replace('0X', '0x'),
      to,
      amount: dcc('2.5'),
      refs: { memo: 'rent' },
    });
    expect(transaction.reason).toBe('transfer');
    expect(transaction.refs).toEqual({ memo: 'rent' });
    expect(transaction.postings.reduce((s, p) => s + p.amount, 0n)).toBe(0n);
    expect((await ctx.store.getAccount(asAccount(from)))?.balance).toBe(dcc('7.5'));
    expect((await ctx.store.getAccount(asAccount(to)))?.balance).toBe(dcc('2.5'));
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });

  it('spends a balance down to exactly zero, then refuses with ENOFUNDS and a clear message', async () => {
    const from = await funded('1');
    const to = randomAddress();
    await ledger().transfer.execute({ from, to, amount: dcc('1') });
    const before = await ctx.store.snapshot();
    await expect(ledger().transfer.execute({ from, to, amount: 1n })).rejects.toMatchObject({
      code: DcpErrorCode.ENOFUNDS,
      message: `Insufficient funds in account ${from}: balance 0 DCC, needs 0.000000001 DCC`,
    });
    expect(await ctx.store.snapshot()).toEqual(before);
  });

  it('rejects unknown sources, forged amounts and malformed addresses, leaving the ledger unchanged', async () => {
    const from = await funded('3');
    const before = await ctx.store.snapshot();
    const unknown = randomAddress();
    await expect(ledger().transfer.execute({ from: unknown, to: from, amount: 1n })).rejects.toMatchObject({
      code: DcpErrorCode.ENOACCOUNT,
      message: `bank account ${unknown} does not exist`,
    });
    for (const amount of [0n, -1n, dcc('-3'), 2n ** 63n, 1 as unknown as bigint]) {
      await expect(ledger().transfer.execute({ from, to: randomAddress(), amount })).rejects.toMatchObject({
        code: DcpErrorCode.EINVAL,
      });
    }
    for (const to of ['0x1234', 'system:issuance', '', 'bob']) {
      await expect(ledger().transfer.execute({ from, to, amount: 1n })).rejects.toMatchObject({
        code: DcpErrorCode.EINVAL,
      });
    }
    await expect(ledger().transfer.execute({ from, to: from, amount: 1n })).rejects.toMatchObject({
      code: DcpErrorCode.EINVAL,
    });
    expect(await ctx.store.snapshot()).toEqual(before);
  });

  it('replays a retried transfer with the same key and refuses the key for another request', async () => {
    const from = await funded('5');
    const to = randomAddress();
    const key = `t-${to}`;
    const first = await ledger().transfer.execute({ from, to, amount: dcc('1'), idempotencyKey: key });
    const retry = await ledger().transfer.execute({ from, to, amount: dcc('1'), idempotencyKey: key });
    expect(retry).toEqual({ transaction: first.transaction, replayed: true });
    await expect(
      ledger().transfer.execute({ from, to, amount: dcc('2'), idempotencyKey: key }),
    ).rejects.toMatchObject({ code: DcpErrorCode.EDUP });
    expect((await ctx.store.getAccount(asAccount(from)))?.balance).toBe(dcc('4'));
  });

  it('moves money once when retries with one key race each other', async () => {
    const from = await funded('5');
    const to = randomAddress();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        createBankLedger({ store: ctx.store }).transfer.execute({
          from,
          to,
          amount: dcc('1'),
          idempotencyKey: `race-${to}`,
        }),
      ),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect((await ctx.store.getAccount(asAccount(from)))?.balance).toBe(dcc('4'));
    expect((await ctx.store.getAccount(asAccount(to)))?.balance).toBe(dcc('1'));
  });

  it('never overdraws under concurrent transfers from one account', async () => {
    const from = await funded('10');
    const to = randomAddress();
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => ledger().transfer.execute({ from, to, amount: dcc('1') })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter(
      (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === DcpErrorCode.ENOFUNDS,
    ).length;
    expect(ok).toBe(10);
    expect(refused).toBe(15);
    expect((await ctx.store.getAccount(asAccount(from)))?.balance).toBe(0n);
    expect(auditLedger(await ctx.store.snapshot()).problems).toEqual([]);
  });
});
