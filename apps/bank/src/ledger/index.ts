// The pure ledger core: amounts, account ids, journal, holds, planners, the store port and its
// in-memory implementation, and the audit used by tests and tools.
export {
  type AccountId,
  type AccountKind,
  accountKind,
  ISSUANCE_ACCOUNT,
  isSystemAccount,
  parseAccountId,
} from './account-id';
export * from './amount';
export { DuplicateIdempotencyKey, LedgerErrors } from './errors';
export { type Hold, type HoldStatus, holdProblems } from './hold';
export { runIdempotent } from './idempotency';
export { auditLedger, type LedgerAudit } from './invariants';
export {
  type Book,
  bookKey,
  checkBalanced,
  checkIdempotencyKey,
  checkRefs,
  deltaFor,
  type HoldId,
  type JournalTransaction,
  type NewTransaction,
  type Posting,
  type TransactionReason,
  type TransactionRefs,
} from './journal';
export { MemoryLedgerStore } from './memory-store';
export {
  type CaptureRequest,
  fingerprints,
  type Planned,
  planCapture,
  planHold,
  planIncrease,
  planMint,
  planRelease,
  planTransfer,
} from './operations';
export {
  type Clock,
  type IdGenerator,
  type LedgerDeps,
  randomIds,
  sequentialIds,
  systemClock,
} from './ports';
export {
  type AccountRecord,
  type HistoryQuery,
  type KeyRecord,
  type LedgerSnapshot,
  type LedgerStore,
  type LedgerTx,
  type Settlement,
  SettlementConflict,
} from './store';
export { type HoldView, holdView, type PostingView, type TransactionView, transactionView } from './views';
