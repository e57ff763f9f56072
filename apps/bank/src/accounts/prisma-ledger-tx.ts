/**
 * The ledger's writes inside one Prisma interactive transaction (the `LedgerTx` port): journal
 * appends, conditional balance updates that never overdraw, account creation, hold state.
 */
import type { PrismaDb, Provider } from '@dcp-emu/db';
import { type AccountId, type AccountKind, accountKind } from '../ledger/account-id';
import { MAX_UNITS } from '../ledger/amount';
import { DuplicateIdempotencyKey, LedgerErrors } from '../ledger/errors';
import type { Hold } from '../ledger/hold';
import type { JournalTransaction, NewTransaction } from '../ledger/journal';
import type { LedgerTx } from '../ledger/store';
import { toAccount, toHold, toTransaction, withPostings } from './ledger-rows';

const MIN_INT64 = -(2n ** 63n);

/** A settlement batch could not be applied as a whole; nothing of it was written. */
export class BatchRefused extends Error {
  constructor(why: string) {
    super(`settlement batch refused: ${why}`);
    this.name = 'BatchRefused';
  }
}

/** The client inside an interactive transaction (what Prisma calls TransactionClient). */
export type Tx = Omit<PrismaDb, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export function prismaCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

/** Positional parameters for raw SQL: `?` on SQLite, `$n` on PostgreSQL. */
export function sqlParameters(provider: Provider): { param: (value: unknown) => string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return provider === 'sqlite' ? '?' : `$${params.length}`;
  };
  return { param, params };
}

/**
 * One interactive transaction's writer. Every balance change is one conditional UPDATE
 * (`balance = balance + d WHERE balance + d` stays within the account's bounds) in the same database
 * transaction as the journal insert, so concurrent writers can never overdraw an account.
 */
export class PrismaLedgerTx {
  constructor(
    private readonly ptx: Tx,
    private readonly provider: Provider,
  ) {}

  /** The LedgerTx port over this transaction. */
  port(): LedgerTx {
    return {
      getAccount: async (id) => {
        const row = await this.ptx.bankAccount.findUnique({ where: { id } });
        return row ? toAccount(row) : null;
      },
      lockHold: async (id) => {
        const locked = await this.ptx.bankHold.updateMany({
          where: { id },
          data: { version: { increment: 1 } },
        });
        if (locked.count === 0) return null;
        const row = await this.ptx.bankHold.findUnique({ where: { id } });
        return row ? toHold(row) : null;
      },
      findByIdempotencyKey: async (key) => {
        const row = await this.ptx.bankTransaction.findUnique({
          where: { idempotencyKey: key },
          include: withPostings,
        });
        return row ? toTransaction(row) : null;
      },
      append: (t) => this.append(t),
      appendMany: (ts) => this.appendMany(ts),
      findByIdempotencyKeys: async (keys) => {
        const rows = await this.ptx.bankTransaction.findMany({
          where: { idempotencyKey: { in: [...new Set(keys)] } },
          include: withPostings,
        });
        return rows.map(toTransaction);
      },
      saveHold: (next, previous) => this.saveHold(next, previous),
    };
  }

  async append(t: NewTransaction): Promise<JournalTransaction> {
    // Postings come sorted by book key: accounts are always updated in the same order (no deadlocks).
    for (const p of t.postings) {
      if (p.book.kind === 'account') await this.post(p.book.account, p.amount);
    }
    try {
      const row = await this.ptx.bankTransaction.create({
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

  async appendMany(txs: readonly NewTransaction[]): Promise<JournalTransaction[]> {
    if (txs.length === 0) return [];
    if (txs.length === 1) return [await this.append(txs[0]!)];
    const net = new Map<AccountId, bigint>();
    for (const t of txs) {
      for (const p of t.postings) {
        if (p.book.kind === 'account') net.set(p.book.account, (net.get(p.book.account) ?? 0n) + p.amount);
      }
    }
    await this.postMany([...net].filter(([, amount]) => amount !== 0n).sort(([a], [b]) => (a < b ? -1 : 1)));
    // Multi-row INSERTs in raw SQL: Prisma's createMany costs about a millisecond per row here.
    const seqs = new Map<string, number>();
    for (let i = 0; i < txs.length; i += 200) {
      const chunk = txs.slice(i, i + 200);
      const { param, params } = sqlParameters(this.provider);
      const rows = chunk.map(
        (t) =>
          `(${[t.id, t.reason, t.refs.job ?? null, t.refs.slice ?? null, t.refs.worker ?? null, t.refs.hold ?? null, t.refs.memo ?? null, t.idempotencyKey ?? null, t.fingerprint, t.createdAt].map(param).join(', ')})`,
      );
      const inserted = await this.ptx.$queryRawUnsafe<{ seq: number | bigint; id: string }[]>(
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
      const { param, params } = sqlParameters(this.provider);
      const rows = legs.slice(i, i + 500).map((values) => `(${values.map(param).join(', ')})`);
      await this.ptx.$executeRawUnsafe(
        `INSERT INTO "bank_postings" ("transactionSeq", "leg", "account", "hold", "amount") VALUES ${rows.join(', ')}`,
        ...params,
      );
    }
    return txs.map((t) => ({ ...t, seq: seqs.get(t.id)! }));
  }

  /**
   * The net changes of a batch as ONE conditional multi-row UPDATE (each row keeps within its bounds),
   * after opening the credited accounts that do not exist yet. If any row misses its bound the batch
   * is refused as a whole (`BatchRefused`); its caller then settles the items one by one.
   */
  private async postMany(net: Array<[AccountId, bigint]>): Promise<void> {
    if (net.length === 0) return;
    if (net.length === 1) return this.post(net[0]![0], net[0]![1]);
    const known = await this.ptx.bankAccount.findMany({
      where: { id: { in: net.map(([id]) => id) } },
      select: { id: true },
    });
    const existing = new Set(known.map((r) => r.id));
    for (const [id, amount] of net) {
      if (existing.has(id)) continue;
      if (amount < 0n && accountKind(id) === 'user') throw LedgerErrors.noAccount(id);
      await this.ensureAccount(id, accountKind(id));
    }
    const { param, params } = sqlParameters(this.provider);
    const clamp = (v: bigint) => (v < MIN_INT64 ? MIN_INT64 : v > MAX_UNITS ? MAX_UNITS : v);
    const cases = net.map(([id, d]) => `WHEN ${param(id)} THEN CAST(${param(d)} AS BIGINT)`).join(' ');
    const bounds = net
      .map(([id, d]) => {
        const floor = accountKind(id) === 'system' ? -MAX_UNITS : 0n;
        return `("id" = ${param(id)} AND "balance" BETWEEN CAST(${param(clamp(floor - d))} AS BIGINT) AND CAST(${param(clamp(MAX_UNITS - d))} AS BIGINT))`;
      })
      .join(' OR ');
    const updated = await this.ptx.$executeRawUnsafe(
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
  private async post(id: AccountId, amount: bigint): Promise<void> {
    const kind = accountKind(id);
    const floor = kind === 'system' ? -MAX_UNITS : 0n;
    const fits = (balance: bigint) => balance + amount >= floor && balance + amount <= MAX_UNITS;
    const bound = amount < 0n ? { gte: floor - amount } : { lte: MAX_UNITS - amount };
    for (let attempt = 1; ; attempt++) {
      const updated = await this.ptx.bankAccount.updateMany({
        where: { id, balance: bound },
        data: { balance: { increment: amount } },
      });
      if (updated.count === 1) return;
      const current = await this.ptx.bankAccount.findUnique({ where: { id }, select: { balance: true } });
      if (current && (!fits(current.balance) || attempt >= 3)) {
        if (amount < 0n && kind === 'user') throw LedgerErrors.noFunds(id, current.balance, -amount);
        throw LedgerErrors.overflow(id);
      }
      if (!current) {
        // A user account must exist to be debited; credits open it, system accounts exist implicitly.
        if (amount < 0n && kind === 'user') throw LedgerErrors.noAccount(id);
        if (attempt >= 3) throw LedgerErrors.overflow(id);
        await this.ensureAccount(id, kind);
      }
    }
  }

  /** Inserts a zero-balance account unless it exists; two writers racing on PostgreSQL both succeed. */
  async ensureAccount(id: AccountId, kind: AccountKind, mayExist = false): Promise<void> {
    if (this.provider === 'postgresql') {
      // skipDuplicates is ON CONFLICT DO NOTHING (PostgreSQL only; not in the SQLite-typed client).
      const createMany = this.ptx.bankAccount.createMany as unknown as (args: {
        data: { id: string; kind: string; balance: bigint }[];
        skipDuplicates: boolean;
      }) => Promise<unknown>;
      await createMany({ data: [{ id, kind, balance: 0n }], skipDuplicates: true });
    } else {
      // SQLite runs one write transaction at a time: nobody can insert it between our check and here.
      if (mayExist && (await this.ptx.bankAccount.findUnique({ where: { id }, select: { id: true } })))
        return;
      await this.ptx.bankAccount.create({ data: { id, kind, balance: 0n } });
    }
  }

  async saveHold(next: Hold, previous: Hold | null): Promise<void> {
    const state = {
      status: next.status,
      held: next.held,
      captured: next.captured,
      released: next.released,
      remaining: next.remaining,
      closedAt: next.closedAt,
    };
    if (previous === null) {
      await this.ptx.bankHold.create({
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
    const updated = await this.ptx.bankHold.updateMany({
      where: { id: next.id, status: previous.status, remaining: previous.remaining },
      data: state,
    });
    if (updated.count !== 1) throw LedgerErrors.holdChanged(next.id);
  }
}
