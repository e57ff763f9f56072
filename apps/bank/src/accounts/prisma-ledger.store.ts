import { type PrismaDb, type Provider, withDbRetry } from '@dcp-emu/db';
import { type AccountId, accountKind } from '../ledger/account-id';
import type { Hold, HoldStatus } from '../ledger/hold';
import type { HoldId, JournalTransaction } from '../ledger/journal';
import {
  type AccountRecord,
  type HistoryQuery,
  historyLimit,
  type KeyRecord,
  type LedgerSnapshot,
  type LedgerStore,
  type LedgerTx,
  type Settlement,
  SettlementConflict,
} from '../ledger/store';
import { type HoldRow, postingsBySeq, toAccount, toHold, toTransaction, withPostings } from './ledger-rows';
import { PrismaLedgerTx } from './prisma-ledger-tx';
import { settlementConflict, settlementStatements } from './prisma-settlement';
import type { SettlementDb } from './sqlite-settlement';

export { BatchRefused } from './prisma-ledger-tx';

export interface PrismaLedgerStoreOptions {
  /**
   * attempts for a transaction that hit a transient error (busy, locked, timed out, write conflict,
   * deadlock), with back-off (default: unlimited within 10 minutes; 1 = no retry, e.g. when joined
   * to an outer transaction that retries itself)
   */
  readonly attempts?: number;
  /** interactive transaction timeout in ms (default 30 s) */
  readonly timeoutMs?: number;
  /** the settlement hot path on a connection of its own (SQLite: `sqliteSettlementDb`) */
  readonly settlementDb?: SettlementDb;
}

/**
 * The ledger on SQLite or PostgreSQL through Prisma. Every balance change is one conditional UPDATE
 * (`balance = balance + d WHERE balance + d` stays within the account's bounds) in the same database
 * transaction as the journal insert, so concurrent writers can never overdraw an account; holds are
 * locked by bumping their version before they are read. The writes inside a transaction are in
 * prisma-ledger-tx.ts, a settlement's batch statements in prisma-settlement.ts, rows → values in
 * ledger-rows.ts.
 */
export class PrismaLedgerStore implements LedgerStore {
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly settlementDb: SettlementDb | undefined;

  constructor(
    private readonly prisma: PrismaDb,
    private readonly provider: Provider,
    options: PrismaLedgerStoreOptions = {},
  ) {
    this.attempts = options.attempts ?? Number.POSITIVE_INFINITY;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.settlementDb = options.settlementDb;
  }

  /** Transient database errors are retried here with back-off: a busy database is slower, never failed. */
  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withDbRetry(fn, { attempts: this.attempts });
  }

  async transaction<T>(fn: (tx: LedgerTx) => Promise<T>): Promise<T> {
    return this.retry(() =>
      this.prisma.$transaction((ptx) => fn(new PrismaLedgerTx(ptx, this.provider).port()), {
        maxWait: this.timeoutMs,
        timeout: this.timeoutMs,
      }),
    );
  }

  async readForSettlement(
    holds: readonly HoldId[],
    keys: readonly string[],
  ): Promise<{ holds: Hold[]; prior: KeyRecord[] }> {
    const fast = this.settlementDb;
    if (fast) return this.retry(async () => fast.readForSettlement(holds, keys));
    return this.retry(async () => {
      const holdRows = holds.length
        ? await this.prisma.bankHold.findMany({ where: { id: { in: [...new Set(holds)] } } })
        : [];
      // the keys as ONE JSON parameter (thousands of bound parameters cost far more to pass)
      const prior = keys.length
        ? await this.prisma.$queryRawUnsafe<KeyRecord[]>(
            this.provider === 'sqlite'
              ? 'SELECT "idempotencyKey" AS "key", "id", "fingerprint" FROM "bank_transactions" WHERE "idempotencyKey" IN (SELECT value FROM json_each(?))'
              : 'SELECT "idempotencyKey" AS "key", "id", "fingerprint" FROM "bank_transactions" WHERE "idempotencyKey" IN (SELECT json_array_elements_text(CAST($1 AS json)))',
            JSON.stringify([...new Set(keys)]),
          )
        : [];
      return { holds: holdRows.map(toHold), prior };
    });
  }

  /**
   * One batch transaction (`$transaction([...])`) of set-based statements, in lock order (holds, then
   * the journal, then accounts): the holds' totals as relative updates (the database refuses a hold
   * below zero: released or drained meanwhile), multi-row journal and posting inserts (postings find
   * their transaction's seq by id), the credited accounts opened and moved by their net change.
   * Capture postings only debit holds, so no account can go short here.
   */
  async settle(settlement: Settlement): Promise<Hold[]> {
    const fast = this.settlementDb;
    if (fast)
      return this.retry(async () => {
        try {
          return fast.settle(settlement);
        } catch (e) {
          const why = settlementConflict(e);
          if (why) throw new SettlementConflict(why);
          throw e;
        }
      });
    const { statements, holdIds } = settlementStatements(settlement, this.provider);
    return this.retry(async () => {
      const { prisma } = this;
      try {
        // Fresh (lazy) statements per attempt; all run in one database transaction, the read last.
        const results = await prisma.$transaction([
          ...statements.map((st) => prisma.$executeRawUnsafe(st.sql, ...st.params)),
          prisma.bankHold.findMany({ where: { id: { in: holdIds } } }),
        ]);
        return (results.at(-1) as HoldRow[]).map(toHold);
      } catch (e) {
        const why = settlementConflict(e);
        if (why) throw new SettlementConflict(why);
        throw e;
      }
    });
  }

  async openAccount(id: AccountId): Promise<AccountRecord> {
    const existing = await this.getAccount(id);
    if (existing) return existing;
    return this.prisma.$transaction(async (ptx) => {
      await new PrismaLedgerTx(ptx, this.provider).ensureAccount(id, accountKind(id), true);
      return toAccount(await ptx.bankAccount.findUniqueOrThrow({ where: { id } }));
    });
  }

  async getAccount(id: AccountId): Promise<AccountRecord | null> {
    const row = await this.prisma.bankAccount.findUnique({ where: { id } });
    return row ? toAccount(row) : null;
  }

  async getHold(id: HoldId): Promise<Hold | null> {
    const row = await this.prisma.bankHold.findUnique({ where: { id } });
    return row ? toHold(row) : null;
  }

  async listHolds(account: AccountId, status?: HoldStatus): Promise<Hold[]> {
    const rows = await this.prisma.bankHold.findMany({
      where: { account, ...(status ? { status } : {}) },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(toHold);
  }

  async history(account: AccountId, query?: HistoryQuery): Promise<JournalTransaction[]> {
    const rows = await this.prisma.bankTransaction.findMany({
      where: {
        postings: { some: { account } },
        ...(query?.beforeSeq !== undefined ? { seq: { lt: query.beforeSeq } } : {}),
      },
      orderBy: { seq: 'desc' },
      take: historyLimit(query),
      include: withPostings,
    });
    return rows.map(toTransaction);
  }

  async jobTransactions(job: string): Promise<JournalTransaction[]> {
    // Postings by a join, not an `include`: a big job's thousands of captures would exceed the
    // database's bound-parameter limit as an IN list.
    const [rows, postings] = await this.prisma.$transaction([
      this.prisma.bankTransaction.findMany({ where: { job }, orderBy: { seq: 'asc' } }),
      this.prisma.bankPosting.findMany({
        where: { transaction: { is: { job } } },
        orderBy: [{ transactionSeq: 'asc' }, { leg: 'asc' }],
      }),
    ]);
    const legs = postingsBySeq(postings);
    return rows.map((t) => toTransaction({ ...t, postings: legs.get(t.seq) ?? [] }));
  }

  async getTransaction(id: string): Promise<JournalTransaction | null> {
    const row = await this.prisma.bankTransaction.findUnique({ where: { id }, include: withPostings });
    return row ? toTransaction(row) : null;
  }

  async snapshot(): Promise<LedgerSnapshot> {
    // a SERIALIZABLE read can lose to concurrent writers on PostgreSQL: read again
    return this.retry(() => this.readSnapshot());
  }

  private async readSnapshot(): Promise<LedgerSnapshot> {
    // One consistent view of all tables, even with writers running. Postings are read flat and
    // grouped here: an `include` over every transaction would exceed SQLite's parameter limit.
    const [accounts, holds, transactions, postings] = await this.prisma.$transaction(
      [
        this.prisma.bankAccount.findMany({ orderBy: { id: 'asc' } }),
        this.prisma.bankHold.findMany({ orderBy: { id: 'asc' } }),
        this.prisma.bankTransaction.findMany({ orderBy: { seq: 'asc' } }),
        this.prisma.bankPosting.findMany({ orderBy: [{ transactionSeq: 'asc' }, { leg: 'asc' }] }),
      ],
      { isolationLevel: 'Serializable' },
    );
    const legs = postingsBySeq(postings);
    return {
      accounts: accounts.map(toAccount),
      holds: holds.map(toHold),
      transactions: transactions.map((t) => toTransaction({ ...t, postings: legs.get(t.seq) ?? [] })),
    };
  }
}
