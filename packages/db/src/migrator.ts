import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SqlDriver } from './driver';
import type { Provider } from './url';

/** Committed SQL migrations: prisma/migrations/<provider>/<NNNN_name>/migration.sql */
export const MIGRATIONS_ROOT = resolve(__dirname, '../../../prisma/migrations');

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const TABLE = '_dcp_emu_migrations';

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads the migrations of one provider in name order. */
export function readMigrations(provider: Provider, root = MIGRATIONS_ROOT): Migration[] {
  const dir = join(root, provider);
  if (!existsSync(dir)) throw new MigrationError(`no migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies pending migrations and their bookkeeping rows in one transaction (all or nothing),
 * under a lock so concurrent starts serialize. Refuses (and applies nothing) if an applied
 * migration was changed or is unknown to this build.
 */
export async function migrate(driver: SqlDriver, migrations: Migration[]): Promise<MigrateResult> {
  return driver.lockedTransaction(async () => {
    // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL's catalog.
    await driver.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const rows = await driver.query<{ name: string; checksum: string }>(
      `SELECT name, checksum FROM ${TABLE} ORDER BY name`,
    );
    const known = new Map(migrations.map((m) => [m.name, m]));
    for (const row of rows) {
      const m = known.get(row.name);
      if (!m) {
        throw new MigrationError(
          `migration ${row.name} is recorded in the database but is not part of this build; refusing to start`,
        );
      }
      if (m.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${row.name} was changed after it was applied (checksum ${m.checksum.slice(0, 12)}… ≠ recorded ${row.checksum.slice(0, 12)}…); refusing to start`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      try {
        await driver.exec(m.sql);
      } catch (e) {
        throw new MigrationError(`migration ${m.name} failed: ${(e as Error).message}`);
      }
      await driver.query(`INSERT INTO ${TABLE} (name, checksum, applied_at) VALUES (?, ?, ?)`, [
        m.name,
        m.checksum,
        new Date().toISOString(),
      ]);
      applied.push(m.name);
    }
    return { applied, alreadyApplied: [...done] };
  });
}
