import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { openDriver, type SqlDriver } from './driver';
import { migrate, readMigrations } from './migrator';
import { clearDatabase, DatabaseState, databaseId, restoreDatabase, StateError, saveDatabase } from './state';
import { type DatabaseLocation, parseDatabaseUrl } from './url';

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

describe('DatabaseState (one service)', () => {
  it('restores a snapshot from before the split (one dcp-emu.sqlite) when its own file is absent', async () => {
    await account('0xa', '100');
    // the old layout: the whole state in snapshots/<name>/dcp-emu.sqlite
    await saveDatabase(location, join(dir, 'old', 'snapshots', 'before', 'dcp-emu.sqlite'));
    await live.query(`UPDATE bank_accounts SET balance = '1' WHERE id = '0xa'`);
    const mine = join(dir, 'bank.sqlite');
    const state = new DatabaseState({ url: `file:${mine}`, dataDir: join(dir, 'old') });
    const own = await openDriver(state.location);
    try {
      await migrate(own, readMigrations('sqlite'));
      await own.query(`INSERT INTO bank_accounts (id, kind, balance) VALUES ('0xz', 'user', 9)`);
    } finally {
      await own.close();
    }
    expect(state.info()).toMatchObject({ provider: 'sqlite', snapshots: true, snapshotFile: 'bank.sqlite' });
    const restored = await state.restore('before');
    expect(restored.file).toBe(join(dir, 'old', 'snapshots', 'before', 'dcp-emu.sqlite'));
    const check = await openDriver(state.location);
    try {
      expect(await check.query('SELECT id, balance FROM bank_accounts')).toEqual([
        { id: '0xa', balance: 100 },
      ]);
    } finally {
      await check.close();
    }
    // its own file, once saved, is what a restore uses
    await state.save('before');
    expect(existsSync(join(dir, 'old', 'snapshots', 'before', 'bank.sqlite'))).toBe(true);
    await expect(state.restore('nothing')).rejects.toBeInstanceOf(StateError);
  });
});

describe('state on PostgreSQL, a schema per service', () => {
  let db: TestDatabase;
  afterEach(async () => db?.drop());

  it('clear empties only the service schema', async () => {
    db = await freshDatabase('postgresql', inject('pgUrl'));
    const at = (schema: string) => {
      const u = new URL(db.url);
      u.searchParams.set('schema', schema);
      return parseDatabaseUrl(u.toString(), dir);
    };
    const bank = at('bank');
    const portal = at('portal');
    const drivers = await Promise.all([openDriver(bank), openDriver(portal)]);
    try {
      for (const d of drivers) {
        await migrate(d, readMigrations('postgresql'));
        await d.query(`INSERT INTO bank_accounts (id, kind, balance) VALUES ('0xa', 'user', 1)`);
      }
      expect((await clearDatabase(bank)).tables).toBeGreaterThan(5);
      const [b, p] = drivers as [SqlDriver, SqlDriver];
      expect(await b.query('SELECT id FROM bank_accounts')).toEqual([]);
      expect(await p.query('SELECT id FROM bank_accounts')).toEqual([{ id: '0xa' }]);
      expect(databaseId(bank)).not.toBe(databaseId(portal));
      expect((await b.query('SELECT name FROM _dcp_emu_migrations')).length).toBeGreaterThan(0);
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
    }
  });
});
