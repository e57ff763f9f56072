import type { AccountId } from '../ledger/account-id';
import type { AccountRecord, LedgerTx } from '../ledger/store';
import type { ChainTransaction } from './chain';

/** A chain transaction as the bridge keeps it: with the request's fingerprint and the balances after it. */
export interface StoredChainTransaction extends ChainTransaction {
  readonly fingerprint: string;
  /** the address's spendable bank balance right after this movement */
  readonly bankBalance: bigint;
  /** the address's chain balance right after this movement */
  readonly chainBalance: bigint;
}

export interface ChainAccountRecord {
  readonly address: AccountId;
  readonly balance: bigint;
}

/**
 * One database transaction spanning both sides of the bridge: the bank ledger (through the ledger's
 * own `LedgerTx`) and the chain tables. Everything commits together or not at all. Lock order:
 * the chain head first (every bridge movement takes it, so bridge movements run one at a time), then
 * the ledger accounts (the ledger's own order), then the chain account.
 */
export interface BridgeTx {
  /** the bank ledger, inside this same database transaction */
  readonly ledger: LedgerTx;
  /** Locks the chain head until the transaction ends; returns the last block number (0: empty chain). */
  lockHead(): Promise<number>;
  /** Writes the new head after a block was added (under the lock). */
  setHead(height: number): Promise<void>;
  /** The movement an address already made with this nonce, if any. */
  findByNonce(address: AccountId, nonce: string): Promise<StoredChainTransaction | null>;
  /** Adds to an address's chain balance (opening its chain account); returns the new balance. */
  creditChain(address: AccountId, amount: bigint): Promise<bigint>;
  /** Takes from an address's chain balance: ENOACCOUNT if it has none, ENOFUNDS if short; the new balance. */
  debitChain(address: AccountId, amount: bigint): Promise<bigint>;
  /** Appends a chain transaction (its block). */
  insert(tx: StoredChainTransaction): Promise<void>;
}

export interface ChainHistoryQuery {
  /** default 50, at most 1000 */
  readonly limit?: number;
  /** how many of the newest to skip (default 0) */
  readonly offset?: number;
}

/** Both sides at one instant, for audits and the invariant tests. */
export interface BridgeSnapshot {
  readonly height: number;
  readonly chainAccounts: readonly ChainAccountRecord[];
  /** oldest first */
  readonly transactions: readonly StoredChainTransaction[];
  /** the bank's `system:bridge` account (null before the first withdrawal) */
  readonly bridgeAccount: AccountRecord | null;
}

/** The bridge's persistence port (Prisma on SQLite or PostgreSQL). */
export interface BridgeStore {
  /** Runs fn in one database transaction over both ledgers; rolled back if fn throws. */
  transaction<T>(fn: (tx: BridgeTx) => Promise<T>): Promise<T>;
  chainAccount(address: AccountId): Promise<ChainAccountRecord | null>;
  bankAccount(address: AccountId): Promise<AccountRecord | null>;
  /** An address's chain transactions, newest first. */
  transactions(address: AccountId, query?: ChainHistoryQuery): Promise<StoredChainTransaction[]>;
  snapshot(): Promise<BridgeSnapshot>;
}

export const DEFAULT_CHAIN_HISTORY_LIMIT = 50;
export { MAX_CHAIN_HISTORY_LIMIT } from '@dcp-emu/contracts';
