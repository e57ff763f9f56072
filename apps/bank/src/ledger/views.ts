import { formatDcc } from './amount';
import type { Hold } from './hold';
import type { HoldStatus } from './hold';
import { bookKey, type JournalTransaction, type TransactionReason, type TransactionRefs } from './journal';

/** JSON shapes of ledger records: amounts as decimal DCC strings, never numbers. */
export interface PostingView {
  readonly book: string;
  readonly amount: string;
}

export interface TransactionView {
  readonly id: string;
  readonly seq: number;
  readonly reason: TransactionReason;
  readonly refs: TransactionRefs;
  readonly postings: PostingView[];
  readonly createdAt: string;
}

export interface HoldView {
  readonly id: string;
  readonly account: string;
  readonly status: HoldStatus;
  readonly held: string;
  readonly captured: string;
  readonly released: string;
  readonly remaining: string;
  readonly refs: TransactionRefs;
  readonly createdAt: string;
  readonly closedAt: string | null;
}

export function transactionView(t: JournalTransaction): TransactionView {
  return {
    id: t.id,
    seq: t.seq,
    reason: t.reason,
    refs: t.refs,
    postings: t.postings.map((p) => ({ book: bookKey(p.book), amount: formatDcc(p.amount) })),
    createdAt: t.createdAt.toISOString(),
  };
}

export function holdView(h: Hold): HoldView {
  return {
    id: h.id,
    account: h.account,
    status: h.status,
    held: formatDcc(h.held),
    captured: formatDcc(h.captured),
    released: formatDcc(h.released),
    remaining: formatDcc(h.remaining),
    refs: h.refs,
    createdAt: h.createdAt.toISOString(),
    closedAt: h.closedAt ? h.closedAt.toISOString() : null,
  };
}
