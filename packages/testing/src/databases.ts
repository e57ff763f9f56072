import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PROVIDERS = ['sqlite', 'postgresql'] as const;
export type TestProvider = (typeof PROVIDERS)[number];

export interface TestDatabase {
  provider: TestProvider;
  /** A DATABASE_URL for a fresh, empty database. */
  url: string;
  /** Drops the database (PostgreSQL) or deletes the file (SQLite). */
  drop(): Promise<void>;
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A fresh database for one test file or suite: a new SQLite file in a temp dir, or a new database
 * on the run's PostgreSQL server (`pgUrl` from vitest's `inject('pgUrl')`).
 */
export async function freshDatabase(provider: TestProvider, pgUrl?: string): Promise<TestDatabase> {
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dcp-emu-db-'));
    return {
      provider,
      url: `file:${join(dir, 'test.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!pgUrl) throw new Error('freshDatabase(postgresql) needs the server URL: pass inject("pgUrl")');
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin(pgUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    provider,
    url: url.toString(),
    drop: () =>
      admin(pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
