import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { type AccountId, ISSUANCE_ACCOUNT, isSystemAccount } from './account-id';
import { checkUnits } from './amount';
import { captureFromHold, type Hold, increaseHold, openHold, releaseHold } from './hold';
import {
  accountBook,
  checkBalanced,
  type HoldId,
  holdBook,
  type NewTransaction,
  type Posting,
  type TransactionReason,
  type TransactionRefs,
} from './journal';

/**
 * The pure planners: each DCP money operation → one balanced transaction (and the new state of the
 * hold it touches). They check everything that can be checked from the request and the hold; the
 * store enforces the balance rules (no user account below zero) when it applies the postings.
 */
export interface Planned {
  readonly tx: NewTransaction;
  readonly hold?: Hold;
}

/** Identity and time of the transaction being planned; supplied by the use case's ports. */
export interface Stamp {
  readonly txId: string;
  readonly at: Date;
  readonly idempotencyKey?: string;
}

function transaction(
  stamp: Stamp,
  reason: TransactionReason,
  refs: TransactionRefs,
  postings: Posting[],
  fingerprint: string,
): NewTransaction {
  return {
    id: stamp.txId,
    reason,
    refs,
    postings: checkBalanced(postings),
    ...(stamp.idempotencyKey !== undefined ? { idempotencyKey: stamp.idempotencyKey } : {}),
    fingerprint,
    createdAt: stamp.at,
  };
}

function userAccount(id: AccountId, role: string): AccountId {
  if (isSystemAccount(id))
    throw new DcpError(DcpErrorCode.EPERM, `${role} cannot be the system account ${id}`);
  return id;
}

/** Canonical request texts: a retried request must match the first one to replay it. */
export const fingerprints = {
  mint: (to: AccountId, amount: bigint) => `mint|${to}|${amount}`,
  transfer: (from: AccountId, to: AccountId, amount: bigint) => `transfer|${from}|${to}|${amount}`,
  hold: (account: AccountId, amount: bigint, refs: TransactionRefs) =>
    `hold|${account}|${amount}|${refs.job ?? ''}`,
  increase: (hold: HoldId, amount: bigint) => `hold-increase|${hold}|${amount}`,
  capture(hold: HoldId, req: CaptureRequest): string {
    const c = req.commission;
    return `capture|${hold}|${req.to}|${req.amount}|${c ? `${c.to}|${c.amount}` : '-'}|${req.slice ?? ''}`;
  },
};

export function planMint(stamp: Stamp, to: AccountId, amount: bigint, memo?: string): Planned {
  userAccount(to, 'the mint recipient');
  checkUnits(amount);
  const refs: TransactionRefs = memo !== undefined ? { memo } : {};
  return {
    tx: transaction(
      stamp,
      'mint',
      refs,
      [
        { book: accountBook(ISSUANCE_ACCOUNT), amount: -amount },
        { book: accountBook(to), amount },
      ],
      fingerprints.mint(to, amount),
    ),
  };
}

export function planTransfer(
  stamp: Stamp,
  from: AccountId,
  to: AccountId,
  amount: bigint,
  refs: TransactionRefs = {},
): Planned {
  userAccount(from, 'the source account');
  userAccount(to, 'the target account');
  checkUnits(amount);
  if (from === to) throw new DcpError(DcpErrorCode.EINVAL, `cannot transfer from ${from} to itself`);
  return {
    tx: transaction(
      stamp,
      'transfer',
      refs,
      [
        { book: accountBook(from), amount: -amount },
        { book: accountBook(to), amount },
      ],
      fingerprints.transfer(from, to, amount),
    ),
  };
}

export function planHold(
  stamp: Stamp,
  holdId: HoldId,
  account: AccountId,
  amount: bigint,
  refs: TransactionRefs = {},
): Planned {
  userAccount(account, 'the held account');
  checkUnits(amount);
  const hold = openHold(holdId, account, amount, { ...refs, hold: holdId }, stamp.at);
  return {
    hold,
    tx: transaction(
      stamp,
      'hold',
      hold.refs,
      [
        { book: accountBook(account), amount: -amount },
        { book: holdBook(holdId), amount },
      ],
      fingerprints.hold(account, amount, refs),
    ),
  };
}

export function planIncrease(stamp: Stamp, hold: Hold, amount: bigint): Planned {
  checkUnits(amount);
  const next = increaseHold(hold, amount);
  return {
    hold: next,
    tx: transaction(
      stamp,
      'hold-increase',
      { ...hold.refs, hold: hold.id },
      [
        { book: accountBook(hold.account), amount: -amount },
        { book: holdBook(hold.id), amount },
      ],
      fingerprints.increase(hold.id, amount),
    ),
  };
}

/** A capture: pay `amount` to `to` and optionally `commission.amount` to `commission.to`, out of the hold. */
export interface CaptureRequest {
  readonly to: AccountId;
  readonly amount: bigint;
  readonly commission?: { readonly to: AccountId; readonly amount: bigint };
  readonly slice?: number;
  readonly worker?: string;
}

export function planCapture(stamp: Stamp, hold: Hold, req: CaptureRequest): Planned {
  userAccount(req.to, 'the payee');
  checkUnits(req.amount, { field: 'payment amount' });
  const commission = req.commission;
  if (commission) {
    userAccount(commission.to, 'the commission account');
    checkUnits(commission.amount, { field: 'commission amount', sign: 'nonNegative' });
  }
  const commissionAmount = commission?.amount ?? 0n;
  const total = req.amount + commissionAmount;
  checkUnits(total, { field: 'capture total' });
  const next = captureFromHold(hold, total);
  const credits = new Map<AccountId, bigint>([[req.to, req.amount]]);
  if (commission && commissionAmount > 0n) {
    credits.set(commission.to, (credits.get(commission.to) ?? 0n) + commissionAmount);
  }
  const refs: TransactionRefs = {
    ...hold.refs,
    hold: hold.id,
    ...(req.slice !== undefined ? { slice: req.slice } : {}),
    ...(req.worker !== undefined ? { worker: req.worker } : {}),
  };
  return {
    hold: next,
    tx: transaction(
      stamp,
      'capture',
      refs,
      [
        { book: holdBook(hold.id), amount: -total },
        ...[...credits].map(([account, amount]) => ({ book: accountBook(account), amount })),
      ],
      fingerprints.capture(hold.id, req),
    ),
  };
}

/** Closes the hold; the transaction is absent when nothing was left to give back. */
export function planRelease(stamp: Stamp, hold: Hold): { hold: Hold; amount: bigint; tx?: NewTransaction } {
  const wasOpen = hold.status === 'open';
  const { hold: next, amount } = releaseHold(hold, stamp.at);
  if (!wasOpen || amount === 0n) return { hold: next, amount };
  return {
    hold: next,
    amount,
    tx: transaction(
      stamp,
      'release',
      { ...hold.refs, hold: hold.id },
      [
        { book: holdBook(hold.id), amount: -amount },
        { book: accountBook(hold.account), amount },
      ],
      `release|${hold.id}`,
    ),
  };
}
