import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBase, freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const ACCOUNT1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 }, (e, out, err) =>
      res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

/** `dcp-emu up --database-url postgresql://…`: one server, one database, a schema per service. */
describe('dcp-emu on one PostgreSQL database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-cli-pg-'));
  let db: TestDatabase;
  let up: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let base = 0;
  const dd = ['--data-dir', dataDir];

  beforeAll(async () => {
    db = await freshDatabase('postgresql', inject('pgUrl'));
    base = await freePortBase();
    up = spawn(
      process.execPath,
      [CLI, 'up', '--no-build', '--no-portal', '--workers', '0', ...dd, '--port-base', String(base)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DCP_EMU_DATABASE_URL: db.url } },
    );
    let out = '';
    let err = '';
    up.stderr?.on('data', (d) => {
      err += d;
    });
    exited = new Promise((res) => up?.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 150_000);
      up?.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('run a program:')) {
          clearTimeout(timer);
          res();
        }
      });
      exited?.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${out}\n${err}`)));
    });
  }, 180_000);

  afterAll(async () => {
    up?.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    if (code === 'timeout') up?.kill('SIGKILL');
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60_000);

  it('each service works in its own schema; reset empties them and funds the dev accounts again', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const where = await c.query<{ schemaname: string }>(
        "SELECT schemaname FROM pg_tables WHERE tablename = '_dcp_emu_migrations' ORDER BY schemaname",
      );
      expect(where.rows.map((r) => r.schemaname)).toEqual(['bank', 'scheduler']);
      const funded = await c.query<{ n: string }>('SELECT count(*)::text AS n FROM bank.bank_accounts');
      expect(Number(funded.rows[0]?.n)).toBeGreaterThanOrEqual(10);
      expect((await c.query('SELECT 1 FROM scheduler.bank_accounts')).rows).toEqual([]);
    } finally {
      await c.end();
    }
    const log = readFileSync(join(dataDir, 'logs', 'bank.log'), 'utf8');
    expect(log).toMatch(/"msg":"database open"/);
    expect(log).toContain('"database":"bank"');
    expect(log).not.toContain(db.url);

    const bank = `http://127.0.0.1:${base + 1}/`;
    const balance = async () =>
      ((await (await fetch(`${bank}api/accounts/${ACCOUNT1}`)).json()) as { balance: string }).balance;
    const mint = await fetch(`${bank}api/faucet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: ACCOUNT1, amount: '5' }),
    });
    expect(mint.status).toBe(201);
    expect(await balance()).toBe('1005');
    // on PostgreSQL reset says what it deletes and, without a terminal, does nothing unless --yes
    const refused = await cli(['reset', ...dd]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/every bank account/);
    expect(refused.err).toMatch(/reset cancelled \(nothing deleted\)/);
    expect(await balance()).toBe('1005');
    const reset = await cli(['reset', '--yes', ...dd]);
    expect(reset.code, reset.err).toBe(0);
    expect(await balance()).toBe('1000');
    const snap = await cli(['snapshot', 'save', 'x', ...dd]);
    expect(snap.code).toBe(1);
    expect(snap.err).toMatch(/SQLite/);
  }, 120_000);
});
