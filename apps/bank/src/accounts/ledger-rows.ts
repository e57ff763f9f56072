/**
 * The bank's database rows → ledger values: journal transactions with their postings, holds and
 * accounts, as Prisma reads them (dates as Date) and as the SQLite settlement path reads them
 * (better-sqlite3: dates as Prisma's text).
 */
import type { AccountId, AccountKind } from '../ledger/account-id';
import type { Hold, HoldStatus } from '../ledger/hold';
import type { Book, HoldId, JournalTransaction, TransactionReason, TransactionRefs } from '../ledger/journal';
import type { AccountRecord } from '../ledger/store';

export interface TransactionRow {
  seq: number;
  id: string;
  reason: string;
  job: string | null;
  slice: number | null;
  worker: string | null;
  hold: string | null;
  memo: string | null;
  idempotencyKey: string | null;
  fingerprint: string;
  createdAt: Date;
  postings: { leg: number; account: string | null; hold: string | null; amount: bigint }[];
}

/** A `bank_holds` row: dates as Date (Prisma) or as the text Prisma writes (raw SQLite). */
export interface HoldRow {
  id: string;
  account: string;
  status: string;
  held: bigint;
  captured: bigint;
  released: bigint;
  remaining: bigint;
  job: string | null;
  memo: string | null;
  createdAt: Date | string;
  closedAt: Date | string | null;
}

export const withPostings = { postings: { orderBy: { leg: 'asc' } } } as const;

export function toTransaction(row: TransactionRow): JournalTransaction {
  const refs: TransactionRefs = {
    ...(row.job !== null ? { job: row.job } : {}),
    ...(row.slice !== null ? { slice: row.slice } : {}),
    ...(row.worker !== null ? { worker: row.worker } : {}),
    ...(row.hold !== null ? { hold: row.hold as HoldId } : {}),
    ...(row.memo !== null ? { memo: row.memo } : {}),
  };
  return {
    seq: row.seq,
    id: row.id,
    reason: row.reason as TransactionReason,
    refs,
    postings: row.postings.map((p) => ({
      book: (p.account !== null
        ? { kind: 'account', account: p.account as AccountId }
        : { kind: 'hold', hold: p.hold as HoldId }) satisfies Book,
      amount: p.amount,
    })),
    ...(row.idempotencyKey !== null ? { idempotencyKey: row.idempotencyKey } : {}),
    fingerprint: row.fingerprint,
    createdAt: row.createdAt,
  };
}

const asDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

export function toHold(row: HoldRow): Hold {
  return {
    id: row.id as HoldId,
    account: row.account as AccountId,
    status: row.status as HoldStatus,
    held: row.held,
    captured: row.captured,
    released: row.released,
    remaining: row.remaining,
    refs: {
      ...(row.job !== null ? { job: row.job } : {}),
      ...(row.memo !== null ? { memo: row.memo } : {}),
      hold: row.id as HoldId,
    },
    createdAt: asDate(row.createdAt),
    closedAt: row.closedAt === null ? null : asDate(row.closedAt),
  };
}

export function toAccount(row: { id: string; kind: string; balance: bigint }): AccountRecord {
  return { id: row.id as AccountId, kind: row.kind as AccountKind, balance: row.balance };
}

/** Postings read flat (ordered by transaction and leg), grouped by their transaction's seq. */
export function postingsBySeq(
  postings: readonly (TransactionRow['postings'][number] & { transactionSeq: number })[],
): Map<number, TransactionRow['postings']> {
  const legs = new Map<number, TransactionRow['postings']>();
  for (const p of postings) {
    const list = legs.get(p.transactionSeq) ?? [];
    list.push(p);
    legs.set(p.transactionSeq, list);
  }
  return legs;
}
