import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openDriver, type SqlDriver } from './driver';
import { migrate, readMigrations } from './migrator';
import { type DatabaseLocation, LEGACY_DATABASE_FILE, parseDatabaseUrl } from './url';

// The emulator's state operations on one service's database (reset, snapshots), with no framework:
// the Nest services wrap them in nest-kit's StateModule, the portal serves them from its own server.

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

/**
 * A part of the service that keeps state in memory next to the database (the scheduler's lease keeper,
 * …): stopped before the database is replaced and rebuilt from it afterwards.
 */
export interface StateParticipant {
  stop(): void | Promise<void>;
  recover(): Promise<void>;
}

/** Snapshot names: letters, digits, `.`, `_`, `-`; `@` first for the CLI's own (`@seed`). */
export const SNAPSHOT_NAME = /^@?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseSnapshotName(body: unknown): string {
  const name = (body as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name))
    throw new StateError('body must be {"name": "<snapshot name: letters, digits, . _ ->"}', 'ENOSNAPSHOT');
  return name;
}

/** Where a snapshot of this database lives: `<dataDir>/snapshots/<name>/<database file name>`. */
export function snapshotFile(dataDir: string, name: string, location: DatabaseLocation): string {
  const file = location.provider === 'sqlite' ? basename(location.target) : 'postgresql';
  return join(dataDir, 'snapshots', name, file);
}

/** A stable id of the database, so a caller can tell which services share one. */
export function databaseId(location: DatabaseLocation): string {
  const where = `${location.provider}:${location.target}${location.schema ? `#${location.schema}` : ''}`;
  return createHash('sha256').update(where).digest('hex').slice(0, 16);
}

/** What `GET /admin/state` answers. */
export interface StateInfo {
  provider: DatabaseLocation['provider'];
  /** equal for services that share one database */
  database: string;
  snapshots: boolean;
  /** the file name this database's copy has in a snapshot folder (SQLite) */
  snapshotFile?: string;
}

export interface DatabaseStateOptions {
  /** the service's database URL (file:… or postgresql://…) and data dir (snapshots live under it) */
  url: string;
  dataDir: string;
  /** the service's in-memory state, if any, looked up at each operation */
  participant?: () => StateParticipant | undefined;
  log?: (entry: Record<string, unknown>) => void;
}

/** One service's state operations, one at a time. */
export class DatabaseState {
  readonly location: DatabaseLocation;
  #busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: DatabaseStateOptions) {
    this.location = parseDatabaseUrl(opts.url, opts.dataDir);
  }

  info(): StateInfo {
    const sqlite = this.location.provider === 'sqlite';
    return {
      provider: this.location.provider,
      database: databaseId(this.location),
      snapshots: sqlite,
      ...(sqlite ? { snapshotFile: basename(this.location.target) } : {}),
    };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(fn, fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  save(name: string): Promise<{ file: string }> {
    return this.#serial(async () => {
      const file = snapshotFile(this.opts.dataDir, name, this.location);
      await saveDatabase(this.location, file);
      this.opts.log?.({ msg: 'snapshot saved', name, file });
      return { file };
    });
  }

  /**
   * Brings back snapshot `name`. A snapshot from before each service had its own database holds one
   * `dcp-emu.sqlite` with every service's tables: it is used when this database's own file is absent.
   */
  restore(name: string): Promise<{ file: string; tables: number }> {
    let file = snapshotFile(this.opts.dataDir, name, this.location);
    const legacy = join(dirname(file), LEGACY_DATABASE_FILE);
    if (this.location.provider === 'sqlite' && !existsSync(file) && existsSync(legacy)) file = legacy;
    return this.#replacing('snapshot restored', { name, file }, async () => ({
      file,
      ...(await restoreDatabase(this.location, file)),
    }));
  }

  clear(): Promise<{ tables: number }> {
    return this.#replacing('state cleared', {}, () => clearDatabase(this.location));
  }

  #replacing<T>(what: string, detail: object, fn: () => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      const participant = this.opts.participant?.();
      const started = Date.now();
      try {
        // inside the try: a participant whose stop fails is still rebuilt from the database
        await participant?.stop();
        return await fn();
      } finally {
        await participant?.recover();
        this.opts.log?.({ msg: what, ...detail, ms: Date.now() - started });
      }
    });
  }
}
