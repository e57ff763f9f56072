import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBase, portOpen } from '@dcp-emu/testing';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');

/** One `dcp-emu` command to its end. */
function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 }, (e, out, err) =>
      res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

/** `npm start` as a new user runs it: the real CLI, the built services, a fresh data dir. */
describe('dcp-emu up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-stack-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts every service healthy, prints URLs and the DCP env, and Ctrl-C stops them all', async () => {
    const base = await freePortBase();
    child = spawn(
      process.execPath,
      [
        join(ROOT, 'packages/cli/bin/dcp-emu.js'),
        'up',
        '--no-build',
        '--data-dir',
        dataDir,
        '--port-base',
        String(base),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info' },
      },
    );
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((res) => child?.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 150_000);
      child?.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('export DCP_SCHEDULER_LOCATION=')) {
          clearTimeout(timer);
          res();
        }
      });
      exited.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${out}\n${err}`)));
    });

    const lines = Object.fromEntries(
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((p) => p.length === 2 && p[1]?.startsWith('http'))
        .map(([name, url]) => [name, url]),
    );
    expect(Object.keys(lines).sort()).toEqual(['bank', 'portal', 'scheduler', 'worker']);
    expect(out).toContain(`export DCP_SCHEDULER_LOCATION=http://127.0.0.1:${base}/`);
    for (const [name, url] of Object.entries(lines)) {
      const ready = await fetch(new URL(name === 'portal' ? 'api/ready' : 'readyz', url as string));
      expect(ready.status, name).toBe(200);
    }
    const health = (await (await fetch(new URL('healthz', lines.scheduler as string))).json()) as {
      status: string;
    };
    expect(health.status).toBe('ok');
    // structured logs: each service line is JSON
    const schedulerLog = readFileSync(join(dataDir, 'logs', 'scheduler.log'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(schedulerLog[schedulerLog.length - 1] as string)).toHaveProperty(
      'service',
      'scheduler',
    );

    // one database per service, each in the data dir
    for (const f of ['scheduler.sqlite', 'bank.sqlite', 'portal.sqlite'])
      expect(existsSync(join(dataDir, f)), f).toBe(true);
    expect(existsSync(join(dataDir, 'dcp-emu.sqlite'))).toBe(false);
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const ids = await Promise.all(
      ['scheduler', 'bank', 'portal'].map(async (name) => {
        const r = await fetch(new URL('admin/state', lines[name] as string), {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(r.status, name).toBe(200);
        return ((await r.json()) as { database: string }).database;
      }),
    );
    expect(new Set(ids).size).toBe(3);

    // reset and snapshots cover every service's database: a portal account and a bank balance
    const portal = lines.portal as string;
    const bank = lines.bank as string;
    const account = { email: 'snap@example.org', password: 'correct horse battery' };
    const post = (base: string, path: string, body: object) =>
      fetch(new URL(path, base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ACCOUNT1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const balance = async () =>
      ((await (await fetch(new URL(`api/accounts/${ACCOUNT1}`, bank))).json()) as { balance: string })
        .balance;
    expect((await post(portal, 'api/auth/signup', account)).status).toBe(201);
    expect((await post(bank, 'api/faucet', { address: ACCOUNT1, amount: '5' })).status).toBe(201);
    const saved = await cli(['snapshot', 'save', 'three', '--data-dir', dataDir]);
    expect(saved.code, saved.err).toBe(0);
    expect(readdirSync(join(dataDir, 'snapshots', 'three')).sort()).toEqual([
      'bank.sqlite',
      'portal.sqlite',
      'scheduler.sqlite',
    ]);
    const reset = await cli(['reset', '--data-dir', dataDir]);
    expect(reset.code, reset.err).toBe(0);
    expect((await post(portal, 'api/auth/signin', account)).status).toBe(401);
    expect(await balance()).toBe('1000');
    const restored = await cli(['snapshot', 'restore', 'three', '--data-dir', dataDir]);
    expect(restored.code, restored.err).toBe(0);
    expect((await post(portal, 'api/auth/signin', account)).status).toBe(200);
    expect(await balance()).toBe('1005');
    // all or none: a snapshot without one of the databases restores nothing
    rmSync(join(dataDir, 'snapshots', 'three', 'portal.sqlite'));
    expect((await post(bank, 'api/faucet', { address: ACCOUNT1, amount: '1' })).status).toBe(201);
    const partial = await cli(['snapshot', 'restore', 'three', '--data-dir', dataDir]);
    expect(partial.code).toBe(1);
    expect(partial.err).toMatch(/no copy of the portal database/);
    expect(await balance()).toBe('1006');

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stillOpen = await Promise.all([0, 1, 2, 3, 4].map((i) => portOpen(base + i)));
    expect(stillOpen).toEqual([false, false, false, false, false]);
  }, 240_000);
});
