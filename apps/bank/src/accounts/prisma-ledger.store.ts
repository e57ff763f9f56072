import { type PrismaDb, type Provider, withDbRetry } from '@dcp-emu/db';
import { type AccountId, type AccountKind, accountKind } from '../ledger/account-id';
import { MAX_UNITS } from '../ledger/amount';
import { DuplicateIdempotencyKey, LedgerErrors } from '../ledger/errors';
import type { Hold, HoldStatus } from '../ledger/hold';
import type {
  Book,
  HoldId,
  JournalTransaction,
  NewTransaction,
  TransactionReason,
  TransactionRefs,
} from '../ledger/journal';
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
import type { SettlementDb } from './sqlite-settlement';

const MIN_INT64 = -(2n ** 63n);

/** A settlement batch could not be applied as a whole; nothing of it was written. */
export class BatchRefused extends Error {
  constructor(why: string) {
    super(`settlement batch refused: ${why}`);
    this.name = 'BatchRefused';
  }
}

/** The client inside an interactive transaction (what Prisma calls TransactionClient). */
type Tx = Omit<PrismaDb, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

interface TransactionRow {
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

interface HoldRow {
  id: string;
  account: string;
  status: string;
  held: bigint;
  captured: bigint;
  released: bigint;
  remaining: bigint;
  job: string | null;
  memo: string | null;
  createdAt: Date;
  closedAt: Date | null;
}

const withPostings = { postings: { orderBy: { leg: 'asc' } } } as const;

function toTransaction(row: TransactionRow): JournalTransaction {
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

function toHold(row: HoldRow): Hold {
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
    createdAt: row.createdAt,
    closedAt: row.closedAt,
  };
}

function toAccount(row: { id: string; kind: string; balance: bigint }): AccountRecord {
  return { id: row.id as AccountId, kind: row.kind as AccountKind, balance: row.balance };
}

function prismaCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

/** What the database says when a settlement no longer fits: a key taken, a hold gone below zero. */
function settlementConflict(e: unknown): string | undefined {
  const text = e instanceof Error ? `${e.message} ${String((e as { meta?: unknown }).meta ?? '')}` : '';
  if (
    prismaCode(e) === 'P2002' ||
    /UNIQUE constraint failed|duplicate key value|unique constraint/i.test(text)
  )
    return 'an idempotency key is already in the journal';
  if (/hold cannot hold a negative amount|bank_holds_nonnegative/.test(text))
    return 'a hold cannot cover its captures any more';
  return undefined;
}

/** Rows per multi-row statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 400;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

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
 * locked by bumping their version before they are read.
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
      this.prisma.$transaction((ptx) => fn(this.txPort(ptx)), {
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
    const txs = settlement.transactions;
    const holdIds = [...settlement.holdDebits.keys()].sort();
    const net = new Map<AccountId, bigint>();
    for (const t of txs)
      for (const p of t.postings) {
        if (p.book.kind !== 'account') continue;
        if (p.amount < 0n) throw new Error('a settlement only credits accounts');
        net.set(p.book.account, (net.get(p.book.account) ?? 0n) + p.amount);
      }
    const accounts = [...net].sort(([a], [b]) => (a < b ? -1 : 1));
    const statements: Array<{ sql: string; params: unknown[] }> = [];
    const raw = (build: (param: (value: unknown) => string) => string) => {
      const { param, params } = this.parameters();
      statements.push({ sql: build(param), params });
    };
    const bigint = (param: (v: unknown) => string, v: unknown) => `CAST(${param(v)} AS BIGINT)`;

    for (const part of chunks(holdIds)) {
      raw((param) => {
        const debit = () =>
          `CASE "id" ${part.map((id) => `WHEN ${param(id)} THEN ${bigint(param, settlement.holdDebits.get(id)!)}`).join(' ')} END`;
        return `UPDATE "bank_holds" SET "captured" = "captured" + ${debit()}, "remaining" = "remaining" - ${debit()}, "version" = "version" + 1 WHERE "id" IN (${part.map(param).join(', ')})`;
      });
    }
    // The journal rows travel as ONE JSON parameter per statement (expanded by the database:
    // json_each / json_array_elements): thousands of bound parameters cost far more to pass.
    const sqlite = this.provider === 'sqlite';
    const rows = sqlite
      ? 'json_each(?) AS j'
      : 'json_array_elements(CAST($2 AS json)) WITH ORDINALITY AS j(value, key)';
    const at = (i: number) => `j.value ->> ${i}`;
    for (const part of chunks(txs, 5000)) {
      const json = JSON.stringify(
        part.map((t) => [
          t.id,
          t.reason,
          t.refs.job ?? null,
          t.refs.slice ?? null,
          t.refs.worker ?? null,
          t.refs.hold ?? null,
          t.refs.memo ?? null,
          t.idempotencyKey ?? null,
          t.fingerprint,
        ]),
      );
      const createdAt = part[0]!.createdAt;
      if (part.some((t) => t.createdAt.getTime() !== createdAt.getTime()))
        throw new Error('a settlement batch is stamped with one time');
      statements.push({
        sql: `INSERT INTO "bank_transactions" ("id", "reason", "job", "slice", "worker", "hold", "memo", "idempotencyKey", "fingerprint", "createdAt") SELECT ${at(0)}, ${at(1)}, ${at(2)}, CAST(${at(3)} AS INTEGER), ${at(4)}, ${at(5)}, ${at(6)}, ${at(7)}, ${at(8)}, ${sqlite ? '?' : 'CAST($1 AS TIMESTAMP(3))'} FROM ${rows} ORDER BY j.key`,
        params: [createdAt, json],
      });
    }
    // The postings name their transaction by id; the join finds its seq (assigned by the insert above).
    const legs = txs.flatMap((t) =>
      t.postings.map((p, leg) => [
        t.id,
        leg,
        p.book.kind === 'account' ? p.book.account : null,
        p.book.kind === 'hold' ? p.book.hold : null,
        p.amount.toString(),
      ]),
    );
    for (const part of chunks(legs, 15000)) {
      statements.push({
        sql: `INSERT INTO "bank_postings" ("transactionSeq", "leg", "account", "hold", "amount") SELECT t."seq", CAST(${at(1)} AS INTEGER), ${at(2)}, ${at(3)}, CAST(${at(4)} AS BIGINT) FROM ${sqlite ? 'json_each(?) AS j' : 'json_array_elements(CAST($1 AS json)) AS j(value)'} JOIN "bank_transactions" t ON t."id" = ${at(0)}`,
        params: [JSON.stringify(part)],
      });
    }
    for (const part of chunks(accounts)) {
      raw(
        (param) =>
          `INSERT INTO "bank_accounts" ("id", "kind", "balance") VALUES ${part
            .map(([id]) => `(${param(id)}, ${param(accountKind(id))}, 0)`)
            .join(', ')} ON CONFLICT ("id") DO NOTHING`,
      );
      raw((param) => {
        const cases = part.map(([id, d]) => `WHEN ${param(id)} THEN ${bigint(param, d)}`).join(' ');
        return `UPDATE "bank_accounts" SET "balance" = "balance" + CASE "id" ${cases} END WHERE "id" IN (${part.map(([id]) => param(id)).join(', ')})`;
      });
    }
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

  private txPort(ptx: Tx): LedgerTx {
    return {
      getAccount: async (id) => {
        const row = await ptx.bankAccount.findUnique({ where: { id } });
        return row ? toAccount(row) : null;
      },
      lockHold: async (id) => {
        const locked = await ptx.bankHold.updateMany({ where: { id }, data: { version: { increment: 1 } } });
        if (locked.count === 0) return null;
        const row = await ptx.bankHold.findUnique({ where: { id } });
        return row ? toHold(row) : null;
      },
      findByIdempotencyKey: async (key) => {
        const row = await ptx.bankTransaction.findUnique({
          where: { idempotencyKey: key },
          include: withPostings,
        });
        return row ? toTransaction(row) : null;
      },
      append: (t) => this.append(ptx, t),
      appendMany: (ts) => this.appendMany(ptx, ts),
      findByIdempotencyKeys: async (keys) => {
        const rows = await ptx.bankTransaction.findMany({
          where: { idempotencyKey: { in: [...new Set(keys)] } },
          include: withPostings,
        });
        return rows.map(toTransaction);
      },
      saveHold: (next, previous) => this.saveHold(ptx, next, previous),
    };
  }

  private async append(ptx: Tx, t: NewTransaction): Promise<JournalTransaction> {
    // Postings come sorted by book key: accounts are always updated in the same order (no deadlocks).
    for (const p of t.postings) {
      if (p.book.kind === 'account') await this.post(ptx, p.book.account, p.amount);
    }
    try {
      const row = await ptx.bankTransaction.create({
        data: {
          id: t.id,
          reason: t.reason,
          job: t.refs.job ?? null,
          slice: t.refs.slice ?? null,
          worker: t.refs.worker ?? null,
          hold: t.refs.hold ?? null,
          memo: t.refs.memo ?? null,
          idempotencyKey: t.idempotencyKey ?? null,
          fingerprint: t.fingerprint,
          createdAt: t.createdAt,
          postings: {
            createMany: {
              data: t.postings.map((p, leg) => ({
                leg,
                account: p.book.kind === 'account' ? p.book.account : null,
                hold: p.book.kind === 'hold' ? p.book.hold : null,
                amount: p.amount,
              })),
            },
          },
        },
        select: { seq: true },
      });
      return { ...t, seq: row.seq };
    } catch (e) {
      if (prismaCode(e) === 'P2002' && t.idempotencyKey !== undefined)
        throw new DuplicateIdempotencyKey(t.idempotencyKey);
      throw e;
    }
  }

  private async appendMany(ptx: Tx, txs: readonly NewTransaction[]): Promise<JournalTransaction[]> {
    if (txs.length === 0) return [];
    if (txs.length === 1) return [await this.append(ptx, txs[0]!)];
    const net = new Map<AccountId, bigint>();
    for (const t of txs) {
      for (const p of t.postings) {
        if (p.book.kind === 'account') net.set(p.book.account, (net.get(p.book.account) ?? 0n) + p.amount);
      }
    }
    await this.postMany(
      ptx,
      [...net].filter(([, amount]) => amount !== 0n).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    // Multi-row INSERTs in raw SQL: Prisma's createMany costs about a millisecond per row here.
    const seqs = new Map<string, number>();
    for (let i = 0; i < txs.length; i += 200) {
      const chunk = txs.slice(i, i + 200);
      const { param, params } = this.parameters();
      const rows = chunk.map(
        (t) =>
          `(${[t.id, t.reason, t.refs.job ?? null, t.refs.slice ?? null, t.refs.worker ?? null, t.refs.hold ?? null, t.refs.memo ?? null, t.idempotencyKey ?? null, t.fingerprint, t.createdAt].map(param).join(', ')})`,
      );
      const inserted = await ptx.$queryRawUnsafe<{ seq: number | bigint; id: string }[]>(
        `INSERT INTO "bank_transactions" ("id", "reason", "job", "slice", "worker", "hold", "memo", "idempotencyKey", "fingerprint", "createdAt") VALUES ${rows.join(', ')} RETURNING "seq", "id"`,
        ...params,
      );
      for (const r of inserted) seqs.set(r.id, Number(r.seq));
    }
    const legs = txs.flatMap((t) =>
      t.postings.map((p, leg) => [
        seqs.get(t.id)!,
        leg,
        p.book.kind === 'account' ? p.book.account : null,
        p.book.kind === 'hold' ? p.book.hold : null,
        p.amount,
      ]),
    );
    for (let i = 0; i < legs.length; i += 500) {
      const { param, params } = this.parameters();
      const rows = legs.slice(i, i + 500).map((values) => `(${values.map(param).join(', ')})`);
      await ptx.$executeRawUnsafe(
        `INSERT INTO "bank_postings" ("transactionSeq", "leg", "account", "hold", "amount") VALUES ${rows.join(', ')}`,
        ...params,
      );
    }
    return txs.map((t) => ({ ...t, seq: seqs.get(t.id)! }));
  }

  /** Positional parameters for raw SQL: `?` on SQLite, `$n` on PostgreSQL. */
  private parameters(): { param: (value: unknown) => string; params: unknown[] } {
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return this.provider === 'sqlite' ? '?' : `$${params.length}`;
    };
    return { param, params };
  }

  /**
   * The net changes of a batch as ONE conditional multi-row UPDATE (each row keeps within its bounds),
   * after opening the credited accounts that do not exist yet. If any row misses its bound the batch
   * is refused as a whole (`BatchRefused`); its caller then settles the items one by one.
   */
  private async postMany(ptx: Tx, net: Array<[AccountId, bigint]>): Promise<void> {
    if (net.length === 0) return;
    if (net.length === 1) return this.post(ptx, net[0]![0], net[0]![1]);
    const known = await ptx.bankAccount.findMany({
      where: { id: { in: net.map(([id]) => id) } },
      select: { id: true },
    });
    const existing = new Set(known.map((r) => r.id));
    for (const [id, amount] of net) {
      if (existing.has(id)) continue;
      if (amount < 0n && accountKind(id) === 'user') throw LedgerErrors.noAccount(id);
      await this.ensureAccount(ptx, id, accountKind(id));
    }
    const { param, params } = this.parameters();
    const clamp = (v: bigint) => (v < MIN_INT64 ? MIN_INT64 : v > MAX_UNITS ? MAX_UNITS : v);
    const cases = net.map(([id, d]) => `WHEN ${param(id)} THEN CAST(${param(d)} AS BIGINT)`).join(' ');
    const bounds = net
      .map(([id, d]) => {
        const floor = accountKind(id) === 'system' ? -MAX_UNITS : 0n;
        return `("id" = ${param(id)} AND "balance" BETWEEN CAST(${param(clamp(floor - d))} AS BIGINT) AND CAST(${param(clamp(MAX_UNITS - d))} AS BIGINT))`;
      })
      .join(' OR ');
    const updated = await ptx.$executeRawUnsafe(
      `UPDATE "bank_accounts" SET "balance" = "balance" + CASE "id" ${cases} END WHERE ${bounds}`,
      ...params,
    );
    if (updated !== net.length) throw new BatchRefused(`${net.length - updated} account(s) out of bounds`);
  }

  /**
   * One conditional UPDATE; on a miss, finds out why (unknown account, short balance, overflow). Under
   * PostgreSQL's READ COMMITTED a row can be committed between the UPDATE and the look-up (another
   * transaction opened or credited the account): then the UPDATE is simply tried again.
   */
  private async post(ptx: Tx, id: AccountId, amount: bigint): Promise<void> {
    const kind = accountKind(id);
    const floor = kind === 'system' ? -MAX_UNITS : 0n;
    const fits = (balance: bigint) => balance + amount >= floor && balance + amount <= MAX_UNITS;
    const bound = amount < 0n ? { gte: floor - amount } : { lte: MAX_UNITS - amount };
    for (let attempt = 1; ; attempt++) {
      const updated = await ptx.bankAccount.updateMany({
        where: { id, balance: bound },
        data: { balance: { increment: amount } },
      });
      if (updated.count === 1) return;
      const current = await ptx.bankAccount.findUnique({ where: { id }, select: { balance: true } });
      if (current && (!fits(current.balance) || attempt >= 3)) {
        if (amount < 0n && kind === 'user') throw LedgerErrors.noFunds(id, current.balance, -amount);
        throw LedgerErrors.overflow(id);
      }
      if (!current) {
        // A user account must exist to be debited; credits open it, system accounts exist implicitly.
        if (amount < 0n && kind === 'user') throw LedgerErrors.noAccount(id);
        if (attempt >= 3) throw LedgerErrors.overflow(id);
        await this.ensureAccount(ptx, id, kind);
      }
    }
  }

  /** Inserts a zero-balance account unless it exists; two writers racing on PostgreSQL both succeed. */
  private async ensureAccount(ptx: Tx, id: AccountId, kind: AccountKind, mayExist = false): Promise<void> {
    if (this.provider === 'postgresql') {
      // skipDuplicates is ON CONFLICT DO NOTHING (PostgreSQL only; not in the SQLite-typed client).
      const createMany = ptx.bankAccount.createMany as unknown as (args: {
        data: { id: string; kind: string; balance: bigint }[];
        skipDuplicates: boolean;
      }) => Promise<unknown>;
      await createMany({ data: [{ id, kind, balance: 0n }], skipDuplicates: true });
    } else {
      // SQLite runs one write transaction at a time: nobody can insert it between our check and here.
      if (mayExist && (await ptx.bankAccount.findUnique({ where: { id }, select: { id: true } }))) return;
      await ptx.bankAccount.create({ data: { id, kind, balance: 0n } });
    }
  }

  private async saveHold(ptx: Tx, next: Hold, previous: Hold | null): Promise<void> {
    const state = {
      status: next.status,
      held: next.held,
      captured: next.captured,
      released: next.released,
      remaining: next.remaining,
      closedAt: next.closedAt,
    };
    if (previous === null) {
      await ptx.bankHold.create({
        data: {
          id: next.id,
          account: next.account,
          job: next.refs.job ?? null,
          memo: next.refs.memo ?? null,
          createdAt: next.createdAt,
          ...state,
        },
      });
      return;
    }
    const updated = await ptx.bankHold.updateMany({
      where: { id: next.id, status: previous.status, remaining: previous.remaining },
      data: state,
    });
    if (updated.count !== 1) throw LedgerErrors.holdChanged(next.id);
  }

  async openAccount(id: AccountId): Promise<AccountRecord> {
    const existing = await this.getAccount(id);
    if (existing) return existing;
    return this.prisma.$transaction(async (ptx) => {
      await this.ensureAccount(ptx, id, accountKind(id), true);
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
    const legs = new Map<number, TransactionRow['postings']>();
    for (const p of postings) {
      const list = legs.get(p.transactionSeq) ?? [];
      list.push(p);
      legs.set(p.transactionSeq, list);
    }
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
    const legs = new Map<number, TransactionRow['postings']>();
    for (const p of postings) {
      const list = legs.get(p.transactionSeq) ?? [];
      list.push(p);
      legs.set(p.transactionSeq, list);
    }
    return {
      accounts: accounts.map(toAccount),
      holds: holds.map(toHold),
      transactions: transactions.map((t) => toTransaction({ ...t, postings: legs.get(t.seq) ?? [] })),
    };
  }
}
