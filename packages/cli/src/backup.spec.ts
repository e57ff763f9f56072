import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommand } from './args';
import { restoreCommand } from './backup';
import type { PgToolsPort } from './pg-backup';

const manifest = (extra: object) =>
  JSON.stringify({ format: 'dcp-emu-backup/1', createdAt: '2026-12-07T00:00:00Z', files: [], ...extra });

describe('backup / restore', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'dcp-emu-backup-spec-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('take --database-url, else DCP_EMU_DATABASE_URL', () => {
    expect(parseCommand(['restore', '/b', '--database-url', 'postgresql://h/db'], {})).toMatchObject({
      kind: 'restore',
      path: '/b',
      databaseUrl: 'postgresql://h/db',
    });
    expect(parseCommand(['backup', '/b'], { DCP_EMU_DATABASE_URL: 'postgresql://e/db' })).toMatchObject({
      kind: 'backup',
      databaseUrl: 'postgresql://e/db',
    });
    expect(parseCommand(['backup', '/b'], {})).not.toHaveProperty('databaseUrl');
  });

  it('a PostgreSQL backup needs a database to go into, and a SQLite one is not restored into PostgreSQL; nothing runs', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const run = vi.fn();
    const tools: PgToolsPort = { run, candidates: (t) => [t] };
    const pgBackup = dir();
    writeFileSync(
      join(pgBackup, 'manifest.json'),
      manifest({
        databases: [],
        postgres: { file: 'postgres.dump', schemas: ['bank'], serverVersion: 15, dumpVersion: 15 },
      }),
    );
    const data = join(dir(), 'data');
    expect(await restoreCommand(data, pgBackup, undefined, tools)).toBe(1);
    expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(
      /backup is of a PostgreSQL stack: give the database/,
    );
    const sqliteBackup = dir();
    mkdirSync(sqliteBackup, { recursive: true });
    writeFileSync(join(sqliteBackup, 'manifest.json'), manifest({ databases: ['bank.sqlite'] }));
    expect(await restoreCommand(data, sqliteBackup, 'postgresql://h/db', tools)).toBe(1);
    expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/holds SQLite databases \(bank\.sqlite\)/);
    expect(run).not.toHaveBeenCalled();
  });
});
