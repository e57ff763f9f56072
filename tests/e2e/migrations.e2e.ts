import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  r.lines.find((l) => l.msg === 'database open') as { migrationsApplied: string[] } | undefined;

describe('migrations at service start-up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-mig-e2e-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('applies all on a fresh database, nothing on the next start, and refuses a tampered migration by name', async () => {
    const first = await startOnce(dataDir);
    expect(first.code).toBe(0);
    const applied = opened(first)?.migrationsApplied ?? [];
    expect(applied.length).toBeGreaterThan(0);

    const second = await startOnce(dataDir);
    expect(second.code).toBe(0);
    expect(opened(second)?.migrationsApplied).toEqual([]);

    // Someone edited an applied migration: the recorded checksum no longer matches the file.
    const db = new Database(join(dataDir, 'dcp-emu.sqlite'));
    db.prepare('UPDATE _dcp_emu_migrations SET checksum = ? WHERE name = ?').run('0'.repeat(64), applied[0]);
    db.close();
    const third = await startOnce(dataDir);
    expect(third.code).not.toBe(0);
    expect(third.lines.some((l) => l.msg === 'listening')).toBe(false);
    const text = JSON.stringify(third.lines);
    expect(text).toContain(`migration ${applied[0]} was changed after it was applied`);
  }, 120_000);
});
