import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcc } from '../ledger/amount';
import { auditLedger } from '../ledger/invariants';
import { createBankLedger } from './bank-ledger';
import { type OpenedStore, openLedgerStore, randomAddress } from './ledger-stores.test';

describe.each(['sqlite', 'postgresql'] as const)('the database guards the ledger rules (%s)', (kind) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openLedgerStore(kind);
    const ledger = createBankLedger({ store: opened.store });
    const payer = randomAddress();
    await ledger.mint.execute({ to: payer, amount: dcc('5') });
    const { hold } = await ledger.hold.execute({ account: payer, amount: dcc('2') });
    await ledger.capture.execute(hold.id, { to: randomAddress(), amount: dcc('1') }, 'k');
  });
  afterAll(() => opened?.close());

  it.each([
    ['rewriting a posting', 'UPDATE "bank_postings" SET "amount" = "amount" * 2'],
    ['deleting a posting', 'DELETE FROM "bank_postings"'],
    ['rewriting a transaction', `UPDATE "bank_transactions" SET "reason" = 'mint'`],
    ['deleting a transaction', 'DELETE FROM "bank_transactions"'],
    ['overdrawing a user account', `UPDATE "bank_accounts" SET "balance" = -1 WHERE "kind" = 'user'`],
    ['a negative hold', 'UPDATE "bank_holds" SET "remaining" = -1'],
  ])('refuses %s, even in raw SQL', async (_what, sql) => {
    const before = await opened.store.snapshot();
    await expect(opened.execute!(sql)).rejects.toThrow(/append-only|negative|constraint|check/i);
    expect(await opened.store.snapshot()).toEqual(before);
    expect(auditLedger(before).problems).toEqual([]);
  });
});
