import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatabaseLocation, migrate, openDriver, readMigrations, type SqlDriver } from '@dcp-emu/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearDatabase, restoreDatabase, StateError, saveDatabase } from './database-state';

let dir: string;
let location: DatabaseLocation;
let live: SqlDriver;

const account = (id: string, balance: string) =>
  live.query(`INSERT INTO bank_accounts (id, kind, balance) VALUES (?, 'user', ?)`, [id, Number(balance)]);
const balances = async () =>
  (
    await live.query<{ id: string; balance: number }>('SELECT id, balance FROM bank_accounts ORDER BY id')
  ).map((r) => `${r.id}=${String(r.balance)}`);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcp-emu-state-'));
  location = { provider: 'sqlite', target: join(dir, 'dcp-emu.sqlite') };
  // a second, long-lived connection plays the service that keeps its database open meanwhile
  live = await openDriver(location);
  await migrate(live, readMigrations('sqlite'));
});
afterEach(async () => {
  await live.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('database state (real SQLite files, under a live connection)', () => {
  it('save then restore brings back the saved rows and drops later ones', async () => {
    await account('0xa', '100');
    const file = join(dir, 'snapshots', 'one', 'dcp-emu.sqlite');
    await saveDatabase(location, file);
    expect(existsSync(file)).toBe(true);
    await live.query(`UPDATE bank_accounts SET balance = '5' WHERE id = '0xa'`);
    await account('0xb', '7');
    expect(await balances()).toEqual(['0xa=5', '0xb=7']);

    const { tables } = await restoreDatabase(location, file);
    expect(tables).toBeGreaterThan(5);
    // the live connection sees the restored state at once
    expect(await balances()).toEqual(['0xa=100']);
    // the migrator's bookkeeping is untouched
    const applied = await live.query('SELECT name FROM _dcp_emu_migrations');
    expect(applied.length).toBe(readMigrations('sqlite').length);
  });

  it('restores and clears past append-only triggers, which stay in force afterwards', async () => {
    await live.exec(
      `CREATE TRIGGER "accounts_append_only" BEFORE DELETE ON bank_accounts BEGIN SELECT RAISE(ABORT, 'append-only'); END;`,
    );
    await account('0xa', '1');
    const file = join(dir, 'guarded.sqlite');
    await saveDatabase(location, file);
    await account('0xb', '2');
    await restoreDatabase(location, file);
    expect(await balances()).toEqual(['0xa=1']);
    await clearDatabase(location);
    expect(await balances()).toEqual([]);
    await account('0xc', '3');
    await expect(live.exec(`DELETE FROM bank_accounts`)).rejects.toThrow(/append-only/);
  });

  it('saving twice under one name replaces the snapshot', async () => {
    const file = join(dir, 's.sqlite');
    await account('0xa', '1');
    await saveDatabase(location, file);
    await account('0xb', '2');
    await saveDatabase(location, file);
    await clearDatabase(location);
    await restoreDatabase(location, file);
    expect(await balances()).toEqual(['0xa=1', '0xb=2']);
  });

  it('clear empties every state table and keeps the schema', async () => {
    await account('0xa', '1');
    const { tables } = await clearDatabase(location);
    expect(tables).toBeGreaterThan(5);
    expect(await balances()).toEqual([]);
    await account('0xc', '3');
    expect(await balances()).toEqual(['0xc=3']);
  });

  it('a missing snapshot is a StateError, and the database stays as it was', async () => {
    await account('0xa', '1');
    await expect(restoreDatabase(location, join(dir, 'nope.sqlite'))).rejects.toBeInstanceOf(StateError);
    expect(await balances()).toEqual(['0xa=1']);
  });

  it('PostgreSQL locations are refused for snapshots with a clear error', async () => {
    const pg: DatabaseLocation = { provider: 'postgresql', target: 'postgresql://x@127.0.0.1:1/none' };
    await expect(saveDatabase(pg, join(dir, 'x'))).rejects.toThrow(/SQLite/);
  });
});
