/**
 * The Prisma path of `LedgerStore.settle`: a settlement as set-based SQL statements for one batch
 * transaction, and what a refused batch means (SettlementConflict's reason).
 */
import type { Provider } from '@dcp-emu/db';
import { type AccountId, accountKind } from '../ledger/account-id';
import type { Settlement } from '../ledger/store';
import { prismaCode, sqlParameters } from './prisma-ledger-tx';

/** What the database says when a settlement no longer fits: a key taken, a hold gone below zero. */
export function settlementConflict(e: unknown): string | undefined {
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

/** One raw statement and its positional parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * The statements of one settlement, in lock order (holds, then the journal, then accounts): the
 * holds' totals as relative updates, multi-row journal and posting inserts, the credited accounts
 * opened and moved by their net change. `holdIds`: the touched holds, sorted (to read back).
 */
export function settlementStatements(
  settlement: Settlement,
  provider: Provider,
): { statements: Statement[]; holdIds: string[] } {
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
  const statements: Statement[] = [];
  const raw = (build: (param: (value: unknown) => string) => string) => {
    const { param, params } = sqlParameters(provider);
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
  const sqlite = provider === 'sqlite';
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
  return { statements, holdIds };
}
