import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { dcc } from '../ledger/amount';
import { createBankLedger } from './bank-ledger';
import { asAccount, randomAddress, STORE_KINDS, useLedgerStore } from './ledger-stores.test';

describe.each(STORE_KINDS)('balances and history (%s)', (kind) => {
  const ctx = useLedgerStore(kind);
  const ledger = () => createBankLedger({ store: ctx.store });

  it('reports the spendable balance and what sits in open holds', async () => {
    const payer = randomAddress();
    await ledger().mint.execute({ to: payer, amount: dcc('10') });
    await ledger().hold.execute({ account: payer, amount: dcc('2') });
    await ledger().hold.execute({ account: payer, amount: dcc('0.5') });
    expect(await ledger().balance.execute(payer)).toEqual({
      address: asAccount(payer),
      balance: dcc('7.5'),
      held: dcc('2.5'),
      openHolds: 2,
    });
  });

  it('answers ENOACCOUNT for unknown accounts and EINVAL for malformed addresses', async () => {
    const unknown = randomAddress();
    await expect(ledger().balance.execute(unknown)).rejects.toMatchObject({ code: DcpErrorCode.ENOACCOUNT });
    await expect(ledger().history.execute(unknown)).rejects.toMatchObject({ code: DcpErrorCode.ENOACCOUNT });
    await expect(ledger().balance.execute('0xnope')).rejects.toMatchObject({ code: DcpErrorCode.EINVAL });
  });

  it('pages the history newest first with each transaction’s effect on the account', async () => {
    const me = randomAddress();
    const other = randomAddress();
    for (let i = 1; i <= 5; i++) await ledger().mint.execute({ to: me, amount: dcc(String(i)) });
    await ledger().transfer.execute({ from: me, to: other, amount: dcc('0.25') });
    const page1 = await ledger().history.execute(me, { limit: 4 });
    expect(page1.entries.map((e) => e.delta)).toEqual([-dcc('0.25'), dcc('5'), dcc('4'), dcc('3')]);
    expect(page1.nextBeforeSeq).toBeDefined();
    const page2 = await ledger().history.execute(me, { limit: 4, beforeSeq: page1.nextBeforeSeq! });
    expect(page2.entries.map((e) => e.delta)).toEqual([dcc('2'), dcc('1')]);
    expect(page2.nextBeforeSeq).toBeUndefined();
    const theirs = await ledger().history.execute(other);
    expect(theirs.entries).toHaveLength(1);
    expect(theirs.entries[0]?.transaction.id).toBe(page1.entries[0]?.transaction.id);
  });
});
