import { DcpError, DcpErrorCode, OperationRegistry } from '@dcp-emu/protocol';
import { z } from 'zod';
import type { BankLedger } from '../accounts/bank-ledger';
import { type AccountId, parseAccountId } from '../ledger/account-id';
import { formatDcc, parseDcc } from '../ledger/amount';

/** The teller's service name in the DCP config (`bank.services.bankTeller.location`) and its path. */
export const TELLER_SERVICE = 'bankTeller';
export const TELLER_PATH = '/bank-teller/';

const addressText = z.string().min(1).max(128);
const amountValue = z.union([z.string().min(1).max(80), z.number()]);

const viewAccountData = z.object({ address: addressText }).loose();
const viewAccountsData = z
  .object({ address: z.union([addressText, z.array(addressText).min(1).max(100)]) })
  .loose();
const transferCreditsData = z
  .object({
    fromAccount: addressText,
    toAccount: addressText,
    amount: amountValue,
    signingSource: addressText.optional(),
  })
  .loose();
const transferData = z
  .object({ fromAccount: addressText, toAccount: addressText, amount: amountValue })
  .loose();

/** Refuses unless the request carries a valid allow/auth for the account (resource = account). */
function requireAuthorization(
  ctx: { isAuthorizedBy(address: string): boolean },
  account: AccountId,
  what: string,
) {
  if (!ctx.isAuthorizedBy(account)) {
    throw new DcpError(DcpErrorCode.EPERM, `${what} must be authorized by account ${account}`, { account });
  }
}

/**
 * 4.x `viewAccount` shape: `{address, balance, escrow: {num, total}}`, amounts as decimal DCC strings.
 * An address the ledger has never seen is an empty account (the first credit opens it), so it views
 * as balance 0 rather than an error: the DCP tools print a failed view as "Balance: undefined".
 * Nothing is written.
 */
async function accountInfo(bank: BankLedger, id: AccountId) {
  if (!(await bank.store.getAccount(id)))
    return { address: id, balance: '0', escrow: { num: 0, total: '0' } };
  const b = await bank.balance.execute(id);
  return {
    address: b.address,
    balance: formatDcc(b.balance),
    escrow: { num: b.openHolds, total: formatDcc(b.held) },
  };
}

async function move(bank: BankLedger, from: AccountId, to: AccountId, amount: bigint) {
  const { transaction } = await bank.transfer.execute({ from, to, amount });
  return {
    transaction: transaction.id,
    fromAccount: from,
    toAccount: to,
    amount: formatDcc(amount),
    balance: formatDcc((await bank.balance.execute(from)).balance),
  };
}

/**
 * The DCP bank teller's operations, for the tools users already have:
 * `viewAccount` and `transferCredits` (dcp-util 2.3.14 `bank-utility`, a 4.x client),
 * `viewAccounts` and `transfer@1` (dcp-client 5.6.1 `bin/dcp-bank`). Every operation needs the
 * account's authorization (allow + auth signature, `ctx.isAuthorizedBy`); replayed requests are
 * refused by the target (EDUP) before they get here.
 */
export function tellerOperations(bank: BankLedger): OperationRegistry {
  return new OperationRegistry()
    .register({
      operation: 'viewAccount',
      schema: viewAccountData,
      handler: async (data, ctx) => {
        const id = parseAccountId(data.address);
        requireAuthorization(ctx, id, 'viewing an account');
        return accountInfo(bank, id);
      },
    })
    .register({
      operation: 'viewAccounts',
      schema: viewAccountsData,
      handler: async (data, ctx) => {
        const ids = (Array.isArray(data.address) ? data.address : [data.address]).map((a) =>
          parseAccountId(a),
        );
        for (const id of ids) requireAuthorization(ctx, id, 'viewing an account');
        const accounts = [];
        for (const id of ids) accounts.push(await accountInfo(bank, id));
        return { accounts };
      },
    })
    .register({
      operation: 'transferCredits',
      schema: transferCreditsData,
      handler: async (data, ctx) => {
        const from = parseAccountId(data.fromAccount, 'fromAccount');
        const to = parseAccountId(data.toAccount, 'toAccount');
        const amount = parseDcc(data.amount);
        requireAuthorization(ctx, from, 'a transfer');
        return move(bank, from, to, amount);
      },
    })
    .register({
      operation: 'transfer@1',
      schema: transferData,
      handler: async (data, ctx) => {
        const from = parseAccountId(data.fromAccount, 'fromAccount');
        const to = parseAccountId(data.toAccount, 'toAccount');
        const amount = parseDcc(data.amount);
        requireAuthorization(ctx, from, 'a transfer');
        return move(bank, from, to, amount);
      },
    });
}
