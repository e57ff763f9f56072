import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  cleanup,
  DCP_CLIENT,
  freePortBase,
  freshDatabase,
  PROVIDERS,
  peerHome,
  runClient,
  type TestDatabase,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const ADDRESS = '0x1111111111111111111111111111111111111111';

const jobScript = `
const { init } = require(${JSON.stringify(DCP_CLIENT[5])});
init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3], (x) => { progress(1); return x + 1; });
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  const results = await job.exec(0);
  console.log('RESULTS ' + JSON.stringify(Array.from(results)));
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 }, (e, out, err) =>
      res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

interface Stack {
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function startUp(dataDir: string, base: number, databaseUrl?: string): Promise<Stack> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'up',
      '--no-build',
      '--no-portal',
      '--workers',
      '1',
      '--data-dir',
      dataDir,
      '--port-base',
      String(base),
      ...(databaseUrl ? ['--database-url', databaseUrl] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 170_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('run a program:')) {
        clearTimeout(timer);
        res();
      }
    });
    exited.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${out}\n${err}`)));
  });
  return { child, exited };
}

async function stop(s: Stack | undefined): Promise<number | null | 'timeout'> {
  if (!s) return null;
  s.child.kill('SIGINT');
  const code = await Promise.race([
    s.exited,
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
  ]);
  if (code === 'timeout') s.child.kill('SIGKILL');
  return code;
}

/**
 * backup → stop and wipe (SQLite: the data dir; PostgreSQL: the data dir, and a new empty database)
 * → restore → up: jobs, compute groups, balances and the scheduler identity are back, and the client
 * that ran before runs again.
 */
describe.each(PROVIDERS)('dcp-emu backup / restore (%s)', (provider) => {
  const dataDir = tempDir('dcp-emu-backup-data-');
  const archive = join(tempDir('dcp-emu-backup-'), 'backup-1');
  let home = '';
  let stack: Stack | undefined;
  const dbs: TestDatabase[] = [];

  afterAll(async () => {
    await stop(stack);
    for (const db of dbs) await db.drop();
    cleanup(dataDir, join(archive, '..'), home);
  }, 60_000);

  it('brings back jobs, groups, balances and the pinned scheduler identity', async () => {
    const pg = provider === 'postgresql';
    const first = pg ? await freshDatabase('postgresql', inject('pgUrl')) : undefined;
    if (first) dbs.push(first);
    const base = await freePortBase();
    const scheduler = `http://127.0.0.1:${base}/`;
    const bank = `http://127.0.0.1:${base + 1}/`;
    stack = await startUp(dataDir, base, first?.url);
    const identity = async () =>
      ((await (await fetch(`${scheduler}api/identity`)).json()) as { address: string }).address;
    const balance = async () =>
      ((await (await fetch(`${bank}api/accounts/${ADDRESS}`)).json()) as { balance?: string }).balance;
    const groups = async () => {
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const res = await fetch(`${scheduler}api/compute-groups`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { groups: { joinKey: string; name: string }[] }).groups;
    };
    const before = await identity();
    expect(
      (
        await fetch(`${bank}api/faucet`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ address: ADDRESS, amount: '12.5' }),
        })
      ).status,
    ).toBe(201);
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const made = await fetch(`${scheduler}api/compute-groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ joinKey: 'kept', joinSecret: 'k33p', name: 'Kept group', commissionRate: '0' }),
    });
    expect(made.status).toBe(201);
    home = peerHome('dcp-emu-backup-client-');
    const job = writePeerFile(home, 'job.js', jobScript);
    const env = { DCP_SCHEDULER_LOCATION: scheduler, DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1' };
    const client = runClient(home, job, env);
    const jobId = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
    await client.waitFor(/RESULTS \[2,3,4\]/, 120_000);
    expect(await client.exited).toBe(0);

    const b = await cli(['backup', archive, '--data-dir', dataDir]);
    expect(b.code, b.err).toBe(0);
    expect(existsSync(join(archive, pg ? 'postgres.dump' : 'scheduler.sqlite'))).toBe(true);
    expect(existsSync(join(archive, 'keys/scheduler.keystore'))).toBe(true);
    if (pg) expect(b.out).toMatch(/PostgreSQL schemas bank, scheduler \(pg_dump \d+, server \d+\)/);

    const running = await cli(['restore', archive, '--data-dir', dataDir]);
    expect(running.code).toBe(1);
    expect(running.err).toMatch(/stop it first/);

    expect(await stop(stack)).toBe(0);
    stack = undefined;
    rmSync(dataDir, { recursive: true, force: true });
    // PostgreSQL: into a new, empty database (the old one is gone with its server, say)
    const second = pg ? await freshDatabase('postgresql', inject('pgUrl')) : undefined;
    if (second) dbs.push(second);
    if (second) {
      const noUrl = await cli(['restore', archive, '--data-dir', dataDir]);
      expect(noUrl.code).toBe(1);
      expect(noUrl.err).toMatch(/give the database to restore into/);
    }
    const r = await cli([
      'restore',
      archive,
      '--data-dir',
      dataDir,
      ...(second ? ['--database-url', second.url] : []),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain(second?.url ?? '\0');

    stack = await startUp(dataDir, base, second?.url);
    expect(await identity()).toBe(before);
    expect(await balance()).toBe('12.5');
    expect((await groups()).map((g) => [g.joinKey, g.name])).toContainEqual(['kept', 'Kept group']);
    const row = (await (await fetch(`${scheduler}api/jobs/${jobId}`)).json()) as { status: string };
    expect(row.status).toBe('finished');
    // the client that ran before (its home, its keys) deploys again to the restored scheduler
    const again = runClient(home, job, env);
    await again.waitFor(/RESULTS \[2,3,4\]/, 120_000);
    expect(await again.exited).toBe(0);
  }, 600_000);
});
