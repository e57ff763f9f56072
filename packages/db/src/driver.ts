import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseLocation, Provider } from './url';

/** The few raw-SQL operations the migrator and test helpers need, on either provider. */
export interface SqlDriver {
  readonly provider: Provider;
  /** PostgreSQL: the schema the connection works in (undefined: the server's default, public) */
  readonly schema?: string;
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs fn in one transaction holding the migration lock; rolls back if fn throws. */
  lockedTransaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const LOCK_WAIT_MS = 30_000;

/** Opens SQLite in WAL mode with a busy timeout so several services can share one file. */
export async function openSqliteDriver(file: string): Promise<SqlDriver> {
  const { default: Database } = await import('better-sqlite3');
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
  db.pragma('foreign_keys = ON');
  return {
    provider: 'sqlite',
    async exec(sql) {
      db.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      const stmt = db.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    },
    async lockedTransaction(fn) {
      // BEGIN IMMEDIATE takes SQLite's write lock at once: services starting together serialize here.
      // Waiting is done asynchronously (busy_timeout would block this thread, and with it any other
      // connection of this process that holds the lock across an await).
      const deadline = Date.now() + LOCK_WAIT_MS;
      db.pragma('busy_timeout = 0');
      try {
        for (;;) {
          try {
            db.exec('BEGIN IMMEDIATE');
            break;
          } catch (e) {
            const busy = (e as { code?: string }).code === 'SQLITE_BUSY';
            if (!busy || Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 15));
          }
        }
      } finally {
        db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
      }
      try {
        const out = await fn();
        db.exec('COMMIT');
        return out;
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    },
    async close() {
      db.close();
    },
  };
}

/** `"name"` as an SQL identifier. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * libpq `options` that make `schema` the connection's only schema: unqualified names (our migrations,
 * raw SQL) resolve there, and nothing falls through to `public`.
 */
export function searchPathOptions(schema: string): string {
  return `-c search_path=${schema}`;
}

/**
 * A PostgreSQL connection; the migration lock is a transaction-scoped advisory lock (one per schema).
 * With `schema` the connection works in that schema, which is created when missing — unless the
 * database is one from before each service had its own schema (a dcp-emu database in `public` and no
 * such schema yet): then it keeps working in `public`, where the data is.
 */
export async function openPostgresDriver(url: string, wanted?: string): Promise<SqlDriver> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let schema = wanted;
  try {
    if (schema) {
      const found = await client.query<{ mine: boolean; legacy: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS mine,
                to_regclass('public._dcp_emu_migrations') IS NOT NULL AS legacy`,
        [schema],
      );
      const row = found.rows[0];
      if (row && !row.mine && row.legacy) schema = undefined;
    }
    if (schema) {
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      } catch (e) {
        // two services creating it at once: one wins, the other sees a unique violation
        const code = (e as { code?: string }).code;
        if (code !== '23505' && code !== '42P06') throw e;
      }
      await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    }
  } catch (e) {
    await client.end();
    throw e;
  }
  return {
    provider: 'postgresql',
    ...(schema ? { schema } : {}),
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      let i = 0;
      const text = sql.replace(/\?/g, () => `$${++i}`);
      return (await client.query(text, params)).rows as T[];
    },
    async lockedTransaction(fn) {
      await client.query('BEGIN');
      try {
        await client.query("SELECT pg_advisory_xact_lock(7430, hashtext(coalesce(current_schema(), '')))");
        const out = await fn();
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    },
    async close() {
      await client.end();
    },
  };
}

export function openDriver(location: DatabaseLocation): Promise<SqlDriver> {
  return location.provider === 'sqlite'
    ? openSqliteDriver(location.target)
    : openPostgresDriver(location.target, location.schema);
}
