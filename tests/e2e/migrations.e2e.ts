import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const BANK = join(ROOT, 'apps/bank/dist/main.js');

interface Run {
  lines: Record<string, unknown>[];
  code: number | null;
}

/** Starts the bank service, waits until it logs `listening` (then stops it) or exits by itself. */
function startOnce(dataDir: string): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BANK], {
      env: { ...process.env, DCP_EMU_DATA_DIR: dataDir, DCP_EMU_BANK_PORT: '0', DCP_EMU_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`bank neither listened nor exited: ${buf}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      buf += d;
      for (const line of d.toString().split('\n')) {
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          lines.push(obj);
          if (obj.msg === 'listening') child.kill('SIGTERM');
        } catch {
          /* not a JSON line */
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ lines, code });
    });
  });
}

const opened = (r: Run) =>
  r.lines.find((l) => l.msg === 'database open') as
    | { migrationsApplied: string[]; database: string }
    | undefined;

describe('migrations at service start-up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-mig-e2e-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('applies all on a fresh database, nothing on the next start, and refuses a tampered migration by name', async () => {
    const first = await startOnce(dataDir);
    expect(first.code).toBe(0);
    // the bank's own database in the data dir
    expect(opened(first)?.database).toBe(join(dataDir, 'bank.sqlite'));
    const applied = opened(first)?.migrationsApplied ?? [];
    expect(applied.length).toBeGreaterThan(0);

    const second = await startOnce(dataDir);
    expect(second.code).toBe(0);
    expect(opened(second)?.migrationsApplied).toEqual([]);

    // Someone edited an applied migration: the recorded checksum no longer matches the file.
    const db = new Database(join(dataDir, 'bank.sqlite'));
    db.prepare('UPDATE _dcp_emu_migrations SET checksum = ? WHERE name = ?').run('0'.repeat(64), applied[0]);
    db.close();
    const third = await startOnce(dataDir);
    expect(third.code).not.toBe(0);
    expect(third.lines.some((l) => l.msg === 'listening')).toBe(false);
    const text = JSON.stringify(third.lines);
    expect(text).toContain(`migration ${applied[0]} was changed after it was applied`);
  }, 120_000);

  it('a data dir from before the split keeps its single dcp-emu.sqlite, data and all', async () => {
    const old = mkdtempSync(join(tmpdir(), 'dcp-emu-mig-old-'));
    try {
      // the old layout: every service's tables in <data dir>/dcp-emu.sqlite (here made by a bank start)
      expect((await startOnce(old)).code).toBe(0);
      renameSync(join(old, 'bank.sqlite'), join(old, 'dcp-emu.sqlite'));
      for (const wal of ['-wal', '-shm']) rmSync(join(old, `bank.sqlite${wal}`), { force: true });
      const db = new Database(join(old, 'dcp-emu.sqlite'));
      db.prepare(`INSERT INTO bank_accounts (id, kind, balance) VALUES ('0xold', 'user', 42)`).run();
      db.close();
      const run = await startOnce(old);
      expect(run.code).toBe(0);
      expect(opened(run)?.database).toBe(join(old, 'dcp-emu.sqlite'));
      expect(opened(run)?.migrationsApplied).toEqual([]);
      expect(existsSync(join(old, 'bank.sqlite'))).toBe(false);
      const after = new Database(join(old, 'dcp-emu.sqlite'));
      expect(after.prepare(`SELECT balance FROM bank_accounts WHERE id = '0xold'`).get()).toEqual({
        balance: 42,
      });
      after.close();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  }, 120_000);
});
