import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, PROVIDERS, type TestDatabase } from '@dcp-emu/testing';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openDatabase } from './database';
import { openDriver } from './driver';
import { MigrationError, migrate, readMigrations } from './migrator';
import { parseDatabaseUrl } from './url';

function migrationsDir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'dcp-emu-mig-'));
  for (const provider of PROVIDERS) {
    for (const [name, sql] of Object.entries(files)) {
      mkdirSync(join(root, provider, name), { recursive: true });
      writeFileSync(join(root, provider, name, 'migration.sql'), sql);
    }
  }
  return root;
}

describe.each(PROVIDERS)('migrator on %s', (provider) => {
  let db: TestDatabase;
  afterEach(async () => db?.drop());

  async function run(root: string) {
    const driver = await openDriver(parseDatabaseUrl(db.url, tmpdir()));
    try {
      return await migrate(driver, readMigrations(provider, root));
    } finally {
      await driver.close();
    }
  }

  async function tables(): Promise<string[]> {
    const driver = await openDriver(parseDatabaseUrl(db.url, tmpdir()));
    try {
      const sql =
        provider === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'm_%' ORDER BY name"
          : "SELECT tablename AS name FROM pg_tables WHERE schemaname='public' AND tablename LIKE 'm_%' ORDER BY tablename";
      return (await driver.query<{ name: string }>(sql)).map((r) => r.name);
    } finally {
      await driver.close();
    }
  }

  it('applies everything on a fresh database, then nothing on a second start', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    const root = migrationsDir({
      '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);',
      '0002_b': 'CREATE TABLE m_b (id INTEGER PRIMARY KEY);',
    });
    expect((await run(root)).applied).toEqual(['0001_a', '0002_b']);
    const second = await run(root);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(['0001_a', '0002_b']);
    expect(await tables()).toEqual(['m_a', 'm_b']);
  });

  it('refuses a tampered migration, naming it, and applies nothing else', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    await run(migrationsDir({ '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);' }));
    const tampered = migrationsDir({
      '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY, x INTEGER);',
      '0002_b': 'CREATE TABLE m_b (id INTEGER PRIMARY KEY);',
    });
    await expect(run(tampered)).rejects.toThrow(/migration 0001_a was changed/);
    await expect(run(tampered)).rejects.toBeInstanceOf(MigrationError);
    expect(await tables()).toEqual(['m_a']);
  });

  it('refuses a database that has a migration this build does not know', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    await run(
      migrationsDir({
        '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);',
        '0002_b': 'CREATE TABLE m_b (id INTEGER);',
      }),
    );
    await expect(
      run(migrationsDir({ '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);' })),
    ).rejects.toThrow(/migration 0002_b is recorded in the database but is not part of this build/);
  });

  it('never half-applies: a failing migration leaves no trace of the pending batch', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    const root = migrationsDir({
      '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);',
      '0002_bad': 'CREATE TABLE m_b (id INTEGER PRIMARY KEY); INSERT INTO m_nowhere VALUES (1);',
    });
    await expect(run(root)).rejects.toThrow(/migration 0002_bad failed/);
    expect(await tables()).toEqual([]);
    const fixed = migrationsDir({ '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);' });
    expect((await run(fixed)).applied).toEqual(['0001_a']);
  });

  it('serializes concurrent starts: each migration is applied exactly once', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    const root = migrationsDir({ '0001_a': 'CREATE TABLE m_a (id INTEGER PRIMARY KEY);' });
    const results = await Promise.all([run(root), run(root), run(root)]);
    expect(results.flatMap((r) => r.applied)).toEqual(['0001_a']);
  });

  it('opens the real schema through Prisma over the driver adapter', async () => {
    db = await freshDatabase(provider, inject('pgUrl'));
    const database = await openDatabase({ url: db.url, dataDir: tmpdir() });
    try {
      expect(database.provider).toBe(provider);
      const committed = readMigrations(provider).map((m) => m.name);
      expect(database.migrations.applied).toEqual(committed);
      const rows = await database.prisma.$queryRawUnsafe<{ name: string }[]>(
        'SELECT name FROM _dcp_emu_migrations ORDER BY name',
      );
      expect(rows.map((r) => r.name)).toEqual(committed);
    } finally {
      await database.close();
    }
    const again = await openDatabase({ url: db.url, dataDir: tmpdir() });
    expect(again.migrations.applied).toEqual([]);
    await again.close();
  });
});

describe('committed migrations', () => {
  it('exist for both providers under the same names', () => {
    const names = PROVIDERS.map((p) => readMigrations(p).map((m) => m.name));
    expect(names[0]).toEqual(names[1]);
    expect(names[0]?.length).toBeGreaterThan(0);
  });
});

describe('one PostgreSQL database, a schema per service', () => {
  let db: TestDatabase;
  afterEach(async () => db?.drop());

  const schemaUrl = (schema: string) => {
    const u = new URL(db.url);
    u.searchParams.set('schema', schema);
    return u.toString();
  };

  it('migrates each schema on its own (concurrently) and Prisma and raw SQL stay in it', async () => {
    db = await freshDatabase('postgresql', inject('pgUrl'));
    const committed = readMigrations('postgresql').map((m) => m.name);
    const [bank, scheduler] = await Promise.all([
      openDatabase({ url: schemaUrl('bank'), dataDir: tmpdir() }),
      openDatabase({ url: schemaUrl('scheduler'), dataDir: tmpdir() }),
    ]);
    try {
      expect(bank.migrations.applied).toEqual(committed);
      expect(scheduler.migrations.applied).toEqual(committed);
      expect(bank.location.schema).toBe('bank');
      await bank.prisma.bankAccount.create({ data: { id: '0xa', kind: 'user', balance: 5n } });
      // raw SQL with unqualified names (the ledger's fast path) resolves to the service's schema
      const raw = await bank.prisma.$queryRawUnsafe<{ n: bigint }[]>(
        'SELECT count(*) AS n FROM bank_accounts',
      );
      expect(Number(raw[0]?.n)).toBe(1);
      expect(await scheduler.prisma.bankAccount.count()).toBe(0);
    } finally {
      await Promise.all([bank.close(), scheduler.close()]);
    }
    const driver = await openDriver(parseDatabaseUrl(db.url, tmpdir()));
    try {
      const tables = await driver.query<{ schemaname: string; n: string }>(
        "SELECT schemaname, count(*)::text AS n FROM pg_tables WHERE tablename = '_dcp_emu_migrations' GROUP BY schemaname ORDER BY schemaname",
      );
      expect(tables).toEqual([
        { schemaname: 'bank', n: '1' },
        { schemaname: 'scheduler', n: '1' },
      ]);
      const inPublic = await driver.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
      expect(inPublic).toEqual([]);
    } finally {
      await driver.close();
    }
    const again = await openDatabase({ url: schemaUrl('bank'), dataDir: tmpdir() });
    expect(again.migrations.applied).toEqual([]);
    await again.close();
  });

  it('a database from before the split (everything in public) keeps being used there', async () => {
    db = await freshDatabase('postgresql', inject('pgUrl'));
    const old = await openDatabase({ url: db.url, dataDir: tmpdir() });
    await old.prisma.bankAccount.create({ data: { id: '0xold', kind: 'user', balance: 42n } });
    await old.close();
    const bank = await openDatabase({ url: schemaUrl('bank'), dataDir: tmpdir() });
    try {
      expect(bank.location.schema).toBeUndefined();
      expect(bank.migrations.applied).toEqual([]);
      expect((await bank.prisma.bankAccount.findUnique({ where: { id: '0xold' } }))?.balance).toBe(42n);
    } finally {
      await bank.close();
    }
    const driver = await openDriver(parseDatabaseUrl(schemaUrl('bank'), tmpdir()));
    try {
      expect(driver.schema).toBeUndefined();
      expect(await driver.query("SELECT nspname FROM pg_namespace WHERE nspname = 'bank'")).toEqual([]);
    } finally {
      await driver.close();
    }
  });
});
