import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DatabaseLocation, migrate, openDriver, readMigrations, type SqlDriver } from '@dcp-emu/db';

/** The migrator's bookkeeping table: never copied or cleared, it describes the schema, not the state. */
const MIGRATIONS_TABLE = '_dcp_emu_migrations';

/** Why a state operation could not be done, in words a CLI can print as they are. */
export class StateError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOSNAPSHOT' | 'EUNSUPPORTED' | 'ESCHEMA',
  ) {
    super(message);
    this.name = 'StateError';
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Tables that hold state (everything but SQLite's internals and the migrator's table). */
async function stateTables(driver: SqlDriver, schema = 'main'): Promise<string[]> {
  if (driver.provider === 'postgresql') {
    const rows = await driver.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename',
    );
    return rows.map((r) => r.tablename).filter((t) => t !== MIGRATIONS_TABLE);
  }
  const rows = await driver.query<{ name: string }>(
    `SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  );
  return rows.map((r) => r.name).filter((t) => t !== MIGRATIONS_TABLE);
}

/**
 * Runs `fn` with the triggers of `main` dropped (the ledger's append-only guards refuse the DELETEs a
 * restore needs) and creates them again afterwards. Call inside a transaction: others never see the gap.
 */
async function withoutTriggers(driver: SqlDriver, fn: () => Promise<void>): Promise<void> {
  const triggers = await driver.query<{ name: string; sql: string }>(
    `SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL ORDER BY name`,
  );
  for (const t of triggers) await driver.exec(`DROP TRIGGER main.${quote(t.name)}`);
  await fn();
  for (const t of triggers) await driver.exec(t.sql);
}

async function migrationNames(driver: SqlDriver, schema: string): Promise<string[]> {
  const rows = await driver.query<{ name: string }>(
    `SELECT name FROM ${schema}.${MIGRATIONS_TABLE} ORDER BY name`,
  );
  return rows.map((r) => r.name);
}

async function withDriver<T>(location: DatabaseLocation, fn: (d: SqlDriver) => Promise<T>): Promise<T> {
  const driver = await openDriver(location);
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/**
 * Writes a consistent copy of a SQLite database to `file` (`VACUUM INTO`, which works next to live
 * connections). The copy is written beside the target first, so `file` is whole or absent.
 */
export async function saveDatabase(location: DatabaseLocation, file: string): Promise<void> {
  if (location.provider !== 'sqlite')
    throw new StateError(
      'snapshots need the embedded SQLite database (PostgreSQL: use reset)',
      'EUNSUPPORTED',
    );
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  await withDriver(location, (d) => d.exec(`VACUUM INTO ${literal(tmp)}`));
  renameSync(tmp, file);
}

/**
 * Replaces every state table's rows with those of the snapshot `file`, in one transaction, under live
 * connections: readers see the old state until the commit and the new one after it. A snapshot taken
 * before newer migrations is migrated forward first; one from a newer schema is refused.
 */
export async function restoreDatabase(location: DatabaseLocation, file: string): Promise<{ tables: number }> {
  if (location.provider !== 'sqlite')
    throw new StateError(
      'snapshots need the embedded SQLite database (PostgreSQL: use reset)',
      'EUNSUPPORTED',
    );
  if (!existsSync(file)) throw new StateError(`no snapshot file ${file}`, 'ENOSNAPSHOT');
  const snapshot: DatabaseLocation = { provider: 'sqlite', target: file };
  await withDriver(snapshot, async (d) => {
    await migrate(d, readMigrations('sqlite'));
  });
  return withDriver(location, async (d) => {
    await d.exec('PRAGMA foreign_keys = OFF');
    await d.query('ATTACH DATABASE ? AS snap', [file]);
    try {
      const [mine, theirs] = await Promise.all([migrationNames(d, 'main'), migrationNames(d, 'snap')]);
      if (mine.join('\n') !== theirs.join('\n'))
        throw new StateError(
          `snapshot ${file} has schema [${theirs.at(-1) ?? 'none'}], the database [${mine.at(-1) ?? 'none'}]`,
          'ESCHEMA',
        );
      const tables = await stateTables(d, 'main');
      const present = new Set(await stateTables(d, 'snap'));
      const columns = new Map<string, string>();
      for (const t of tables) {
        if (!present.has(t)) throw new StateError(`snapshot ${file} lacks table ${t}`, 'ESCHEMA');
        const cols = await d.query<{ name: string }>(`PRAGMA main.table_info(${quote(t)})`);
        columns.set(t, cols.map((c) => quote(c.name)).join(', '));
      }
      const hasSequence =
        (await d.query(`SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'`)).length > 0 &&
        (await d.query(`SELECT 1 FROM snap.sqlite_master WHERE name = 'sqlite_sequence'`)).length > 0;
      await d.lockedTransaction(() =>
        withoutTriggers(d, async () => {
          for (const t of tables) {
            const cols = columns.get(t) as string;
            await d.exec(
              `DELETE FROM main.${quote(t)}; INSERT INTO main.${quote(t)} (${cols}) SELECT ${cols} FROM snap.${quote(t)};`,
            );
          }
          if (hasSequence)
            await d.exec(
              'DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence SELECT * FROM snap.sqlite_sequence;',
            );
        }),
      );
      return { tables: tables.length };
    } finally {
      await d.exec('DETACH DATABASE snap');
    }
  });
}

/** Empties every state table (SQLite or PostgreSQL) in one transaction; the schema stays. */
export async function clearDatabase(location: DatabaseLocation): Promise<{ tables: number }> {
  return withDriver(location, async (d) => {
    const tables = await stateTables(d);
    if (d.provider === 'postgresql') {
      if (tables.length)
        await d.lockedTransaction(() =>
          d.exec(`TRUNCATE ${tables.map(quote).join(', ')} RESTART IDENTITY CASCADE`),
        );
      return { tables: tables.length };
    }
    await d.exec('PRAGMA foreign_keys = OFF');
    await d.lockedTransaction(() =>
      withoutTriggers(d, async () => {
        for (const t of tables) await d.exec(`DELETE FROM main.${quote(t)}`);
        const seq = await d.query(`SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'`);
        if (seq.length) await d.exec('DELETE FROM main.sqlite_sequence');
      }),
    );
    return { tables: tables.length };
  });
}
