import type { AccountId, AccountKind } from './account-id';
import type { Hold, HoldStatus } from './hold';
import type { HoldId, JournalTransaction, NewTransaction } from './journal';

export interface AccountRecord {
  readonly id: AccountId;
  readonly kind: AccountKind;
  readonly balance: bigint;
}

/**
 * The work one ledger transaction may do; everything commits together or not at all.
 * Lock order (avoids deadlocks on PostgreSQL): lock the hold first, then append (which touches
 * accounts in book-key order).
 */
export interface LedgerTx {
  getAccount(id: AccountId): Promise<AccountRecord | null>;
  /** Reads a hold and locks it until the transaction ends. */
  lockHold(id: HoldId): Promise<Hold | null>;
  findByIdempotencyKey(key: string): Promise<JournalTransaction | null>;
  /**
   * Appends a balanced transaction and applies its account postings as conditional updates:
   * a debit needs an existing account (ENOACCOUNT) with enough balance (ENOFUNDS; the system
   * issuance account may go negative); a credit opens a missing account. Hold books are recorded in
   * the journal; the hold's own row is written by `saveHold`.
   */
  append(tx: NewTransaction): Promise<JournalTransaction>;
  /**
   * Appends several transactions at once (a settlement batch): the same rules as `append` applied to
   * each account's net change, one write per account and one insert per table.
   */
  appendMany(txs: readonly NewTransaction[]): Promise<JournalTransaction[]>;
  /** The committed transactions among these idempotency keys. */
  findByIdempotencyKeys(keys: readonly string[]): Promise<JournalTransaction[]>;
  /** Inserts a new hold (`previous` null) or writes its next state over the locked `previous`. */
  saveHold(next: Hold, previous: Hold | null): Promise<void>;
}

export interface HistoryQuery {
  /** newest first; at most this many (default 50, max 1000) */
  readonly limit?: number;
  /** only transactions older than this seq (paging) */
  readonly beforeSeq?: number;
}

/** Everything, for audits and the invariant checks of the property tests. */
export interface LedgerSnapshot {
  readonly accounts: readonly AccountRecord[];
  readonly holds: readonly Hold[];
  readonly transactions: readonly JournalTransaction[];
}

/** What a settlement batch needs to know of a committed idempotency key. */
export interface KeyRecord {
  readonly key: string;
  /** the journal transaction's id */
  readonly id: string;
  readonly fingerprint: string;
}

/**
 * A planned settlement batch (captures): its journal transactions, and per hold the total taken out
 * of it. Planned against holds read without locks (`readForSettlement`); `settle` applies it only if
 * it still fits.
 */
export interface Settlement {
  readonly transactions: readonly NewTransaction[];
  /** hold → total captured from it by this batch (> 0) */
  readonly holdDebits: ReadonlyMap<HoldId, bigint>;
}

/**
 * A settlement no longer fits the ledger as committed (a key was taken or a hold changed since it was
 * planned): nothing was written; plan it again.
 */
export class SettlementConflict extends Error {
  constructor(why: string) {
    super(`settlement batch conflicts with a concurrent change: ${why}`);
    this.name = 'SettlementConflict';
  }
}

/** The ledger's persistence port: an in-memory implementation and a Prisma one (SQLite, PostgreSQL). */
export interface LedgerStore {
  /** Runs fn in one database transaction; rolled back if fn throws. */
  transaction<T>(fn: (tx: LedgerTx) => Promise<T>): Promise<T>;
  /** Creates the account with a zero balance if it does not exist. */
  openAccount(id: AccountId): Promise<AccountRecord>;
  getAccount(id: AccountId): Promise<AccountRecord | null>;
  getHold(id: HoldId): Promise<Hold | null>;
  listHolds(account: AccountId, status?: HoldStatus): Promise<Hold[]>;
  history(account: AccountId, query?: HistoryQuery): Promise<JournalTransaction[]>;
  getTransaction(id: string): Promise<JournalTransaction | null>;
  /** Every transaction referring to a job (escrow, increases, captures, release), oldest first. */
  jobTransactions(job: string): Promise<JournalTransaction[]>;
  snapshot(): Promise<LedgerSnapshot>;
  /** The holds and the committed idempotency keys among these, as they are now (no locks). */
  readForSettlement(
    holds: readonly HoldId[],
    keys: readonly string[],
  ): Promise<{ holds: Hold[]; prior: KeyRecord[] }>;
  /**
   * Applies a settlement in ONE database transaction of set-based statements (no interactive round
   * trips): the journal rows, each credited account's net change, each hold's captured total. Throws
   * `SettlementConflict` (nothing written) when a key is already in the journal or a hold cannot give
   * its total any more (released or drained meanwhile). Returns the holds' state after it.
   */
  settle(settlement: Settlement): Promise<Hold[]>;
}

export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 1000;

export function historyLimit(query?: HistoryQuery): number {
  const limit = query?.limit ?? DEFAULT_HISTORY_LIMIT;
  return Math.max(1, Math.min(MAX_HISTORY_LIMIT, Math.floor(limit)));
}
