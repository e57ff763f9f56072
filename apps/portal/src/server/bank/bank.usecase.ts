import { DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';
import { fromUnits, toUnits } from '../../lib/dcc';
import { userAddresses } from '../ownership';
import type { KeystoreStore } from '../ports';
import { fail, ok, type Result } from '../result';
import type { BankApi, HistoryView } from '../upstream/bank';
import { validate } from '../validation';

export interface BankDeps {
  keystores: KeystoreStore;
  bank: BankApi;
}

export interface AccountRow {
  address: string;
  label: string;
  balance: string;
  held: string;
}

const NOT_YOURS = 'no such bank account among your keystores; add its keystore first';
export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'an address is 0x followed by 40 hexadecimal digits')
  .transform((a) => a.toLowerCase());
const amountSchema = z
  .string()
  .trim()
  .regex(/^\d{1,12}(\.\d{1,18})?$/, 'an amount of DCC, like 10 or 0.5')
  .refine((a) => /[1-9]/.test(a), 'the amount must be more than 0');
const nonceSchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'a nonce of 8 to 128 characters');
const signatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte hex signature');

/** The user's bank accounts (bank-account keystores) with their balances. */
export async function listAccounts(deps: BankDeps, userId: string): Promise<Result<AccountRow[]>> {
  const mine = await userAddresses(deps, userId);
  const rows = await Promise.all(
    mine.banks.map(async (address): Promise<Result<AccountRow>> => {
      const a = await deps.bank.account(address);
      if (!a.ok && a.error.code === DcpErrorCode.ENOACCOUNT)
        return ok({ address, label: mine.labels.get(address) ?? '', balance: '0', held: '0' });
      if (!a.ok) return a;
      return ok({
        address,
        label: mine.labels.get(address) ?? '',
        balance: a.value.balance,
        held: a.value.held,
      });
    }),
  );
  const failed = rows.find((r) => !r.ok);
  if (failed && !failed.ok) return failed;
  return ok(rows.flatMap((r) => (r.ok ? [r.value] : [])));
}

async function ownedBankAddress(deps: BankDeps, userId: string, raw: unknown): Promise<Result<string>> {
  const parsed = validate(addressSchema, raw);
  if (!parsed.ok) return fail(DcpErrorCode.ENOENT, NOT_YOURS, 'address');
  const mine = await userAddresses(deps, userId);
  return mine.banks.includes(parsed.value) ? parsed : fail(DcpErrorCode.ENOENT, NOT_YOURS, 'address');
}

/** The journal of one of the user's accounts, newest first. */
export async function accountHistory(
  deps: BankDeps,
  userId: string,
  address: string,
): Promise<Result<HistoryView>> {
  const owned = await ownedBankAddress(deps, userId, address);
  if (!owned.ok) return owned;
  return historyOf(deps, owned.value);
}

/** An account the bank has never seen has an empty history (the bank answers ENOACCOUNT). */
async function historyOf(deps: BankDeps, address: string, limit?: number): Promise<Result<HistoryView>> {
  const h = await deps.bank.history(address, limit);
  if (!h.ok && h.error.code === DcpErrorCode.ENOACCOUNT) return ok({ address, entries: [] });
  return h;
}

const faucetBody = z.object({ address: z.string(), amount: amountSchema });

/** Mint dev DCC into one of the user's accounts (the bank's faucet, when enabled). */
export async function faucet(deps: BankDeps, userId: string, body: unknown) {
  const parsed = validate(faucetBody, body);
  if (!parsed.ok) return parsed;
  const owned = await ownedBankAddress(deps, userId, parsed.value.address);
  if (!owned.ok) return owned;
  return deps.bank.faucet(owned.value, parsed.value.amount);
}

const transferBody = z.object({
  from: z.string(),
  to: addressSchema,
  amount: amountSchema,
  nonce: nonceSchema,
  signature: signatureSchema,
});

/**
 * Forward a transfer the browser signed with the `from` account's key. The portal checks that
 * `from` is the user's; the bank checks the signature (EPERM otherwise) and the nonce (replays pay once).
 */
export async function transfer(deps: BankDeps, userId: string, body: unknown) {
  const parsed = validate(transferBody, body);
  if (!parsed.ok) return parsed;
  const owned = await ownedBankAddress(deps, userId, parsed.value.from);
  if (!owned.ok) return fail(DcpErrorCode.ENOENT, NOT_YOURS, 'from');
  return deps.bank.transfer({ ...parsed.value, from: owned.value });
}

const bridgeBody = z.object({
  address: z.string(),
  amount: amountSchema,
  nonce: nonceSchema,
  signature: signatureSchema,
});

/** Deposit from / withdraw to the emulated chain, signed in the browser by the account's key. */
export async function bridge(deps: BankDeps, userId: string, kind: 'deposit' | 'withdraw', body: unknown) {
  const parsed = validate(bridgeBody, body);
  if (!parsed.ok) return parsed;
  const owned = await ownedBankAddress(deps, userId, parsed.value.address);
  if (!owned.ok) return owned;
  const request = { ...parsed.value, address: owned.value };
  return kind === 'deposit' ? deps.bank.deposit(request) : deps.bank.withdraw(request);
}

/** The chain side of one of the user's accounts: balances and bridge transactions. */
export async function bridgeAccount(deps: BankDeps, userId: string, address: string) {
  const owned = await ownedBankAddress(deps, userId, address);
  if (!owned.ok) return owned;
  const [account, txs] = await Promise.all([
    deps.bank.bridgeAccount(owned.value),
    deps.bank.bridgeTransactions(owned.value),
  ]);
  if (!account.ok) return account;
  if (!txs.ok) return txs;
  return ok({ ...account.value, transactions: txs.value.transactions });
}

/** What workers paying into the user's accounts earned: job payments received, per account. */
export async function earnings(
  deps: BankDeps,
  userId: string,
): Promise<Result<{ address: string; label: string; earned: string; payments: number }[]>> {
  const mine = await userAddresses(deps, userId);
  const out: { address: string; label: string; earned: string; payments: number }[] = [];
  for (const address of mine.banks) {
    const h = await historyOf(deps, address, 1000);
    if (!h.ok) return h;
    let units = 0n;
    let payments = 0;
    for (const e of h.value.entries) {
      if (e.transaction.reason !== 'capture' || e.delta.startsWith('-')) continue;
      units += toUnits(e.delta);
      payments++;
    }
    out.push({ address, label: mine.labels.get(address) ?? '', earned: fromUnits(units), payments });
  }
  return ok(out);
}
