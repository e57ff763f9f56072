import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { AccountId } from './account-id';
import { MAX_UNITS } from './amount';

export type HoldId = string & { readonly __holdId: unique symbol };

/** Where a posting lands: an account's balance or an open hold's remaining funds. */
export type Book =
  | { readonly kind: 'account'; readonly account: AccountId }
  | { readonly kind: 'hold'; readonly hold: HoldId };

export const accountBook = (account: AccountId): Book => ({ kind: 'account', account });
export const holdBook = (hold: HoldId): Book => ({ kind: 'hold', hold });

/** A stable text key of a book, e.g. `account:0xab…` or `hold:…`; also the lock order of a transaction. */
export function bookKey(book: Book): string {
  return book.kind === 'account' ? `account:${book.account}` : `hold:${book.hold}`;
}

/** One leg of a transaction; `amount` is signed base units: positive credits the book, negative debits it. */
export interface Posting {
  readonly book: Book;
  readonly amount: bigint;
}

export type TransactionReason = 'mint' | 'transfer' | 'hold' | 'hold-increase' | 'capture' | 'release';

/** What a movement is about. All optional; holds carry the job they escrow for. */
export interface TransactionRefs {
  readonly job?: string;
  readonly slice?: number;
  readonly worker?: string;
  readonly hold?: HoldId;
  readonly memo?: string;
}

/** A transaction about to be written: balanced postings plus why and for what. */
export interface NewTransaction {
  readonly id: string;
  readonly reason: TransactionReason;
  readonly refs: TransactionRefs;
  readonly postings: readonly Posting[];
  /** the caller's retry key: a second request with the same key replays the first result */
  readonly idempotencyKey?: string;
  /** canonical text of the request, so a key reused for a different request is detected */
  readonly fingerprint: string;
  readonly createdAt: Date;
}

/** A committed, immutable journal transaction. `seq` orders the journal. */
export interface JournalTransaction extends NewTransaction {
  readonly seq: number;
}

/** Internal invariant broken: a bug in the bank, never a client's fault. */
function broken(message: string): DcpError {
  return new DcpError(DcpErrorCode.EINTERNAL, `unbalanced or malformed ledger transaction: ${message}`);
}

/**
 * The double-entry rule: at least two postings, none zero, each within range, no book twice, and
 * the amounts sum to exactly zero. Throws EINTERNAL otherwise; returns the postings sorted in lock order.
 */
export function checkBalanced(postings: readonly Posting[]): Posting[] {
  if (postings.length < 2) throw broken('fewer than two postings');
  const seen = new Set<string>();
  let sum = 0n;
  for (const p of postings) {
    if (typeof p.amount !== 'bigint' || p.amount === 0n)
      throw broken(`zero or non-integer posting to ${bookKey(p.book)}`);
    if (p.amount > MAX_UNITS || p.amount < -MAX_UNITS)
      throw broken(`posting out of range on ${bookKey(p.book)}`);
    const key = bookKey(p.book);
    if (seen.has(key)) throw broken(`${key} posted twice`);
    seen.add(key);
    sum += p.amount;
  }
  if (sum !== 0n) throw broken(`postings sum to ${sum}, not 0`);
  return [...postings].sort((a, b) => (bookKey(a.book) < bookKey(b.book) ? -1 : 1));
}

/** The net effect of a transaction on one account (0n if untouched). */
export function deltaFor(tx: Pick<NewTransaction, 'postings'>, account: AccountId): bigint {
  let delta = 0n;
  for (const p of tx.postings) if (p.book.kind === 'account' && p.book.account === account) delta += p.amount;
  return delta;
}

const MAX_REF_LENGTH = 256;

function badRef(field: string, why: string): DcpError {
  return new DcpError(DcpErrorCode.EINVAL, `invalid ${field}: ${why}`, { field });
}

function refText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REF_LENGTH) {
    throw badRef(field, `expected a non-empty string of at most ${MAX_REF_LENGTH} characters`);
  }
  return value;
}

/** Validates caller-given references (job, slice, worker, memo); EINVAL for anything malformed. */
export function checkRefs(refs: Partial<Record<keyof TransactionRefs, unknown>> = {}): TransactionRefs {
  const job = refText(refs.job, 'job reference');
  const worker = refText(refs.worker, 'worker reference');
  const memo = refText(refs.memo, 'memo');
  const slice = refs.slice;
  if (slice !== undefined && (typeof slice !== 'number' || !Number.isSafeInteger(slice) || slice < 0)) {
    throw badRef('slice reference', 'expected a non-negative integer');
  }
  return {
    ...(job !== undefined ? { job } : {}),
    ...(slice !== undefined ? { slice: slice as number } : {}),
    ...(worker !== undefined ? { worker } : {}),
    ...(memo !== undefined ? { memo } : {}),
  };
}

/** Validates an idempotency key: a non-empty string of at most 256 characters. */
export function checkIdempotencyKey(key: unknown): string {
  const text = refText(key, 'idempotency key');
  if (text === undefined) throw badRef('idempotency key', 'missing');
  return text;
}
