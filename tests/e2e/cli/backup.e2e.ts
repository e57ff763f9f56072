import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  freePortBase,
  peerHome,
  runClient,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, describe, expect, it } from 'vitest';

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

async function startUp(dataDir: string, base: number): Promise<Stack> {
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

/** backup → stop and wipe the data dir → restore → up: jobs, balances and the scheduler identity are back. */
describe('dcp-emu backup / restore (SQLite)', () => {
  const dataDir = tempDir('dcp-emu-backup-data-');
  const archive = join(tempDir('dcp-emu-backup-'), 'backup-1');
  let home = '';
  let stack: Stack | undefined;

  afterAll(async () => {
    await stop(stack);
    cleanup(dataDir, join(archive, '..'), home);
  }, 60_000);

  it('brings back jobs, balances and the pinned scheduler identity', async () => {
    const base = await freePortBase();
    const scheduler = `http://127.0.0.1:${base}/`;
    const bank = `http://127.0.0.1:${base + 1}/`;
    stack = await startUp(dataDir, base);
    const identity = async () =>
      ((await (await fetch(`${scheduler}api/identity`)).json()) as { address: string }).address;
    const balance = async () =>
      ((await (await fetch(`${bank}api/accounts/${ADDRESS}`)).json()) as { balance?: string }).balance;
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
    home = peerHome('dcp-emu-backup-client-');
    const client = runClient(home, writePeerFile(home, 'job.js', jobScript), {
      DCP_SCHEDULER_LOCATION: scheduler,
      DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    });
    const jobId = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
    await client.waitFor(/RESULTS \[2,3,4\]/, 120_000);
    expect(await client.exited).toBe(0);

    const b = await cli(['backup', archive, '--data-dir', dataDir]);
    expect(b.code, b.err).toBe(0);
    expect(existsSync(join(archive, 'scheduler.sqlite'))).toBe(true);
    expect(existsSync(join(archive, 'keys/scheduler.keystore'))).toBe(true);

    const running = await cli(['restore', archive, '--data-dir', dataDir]);
    expect(running.code).toBe(1);
    expect(running.err).toMatch(/stop it first/);

    expect(await stop(stack)).toBe(0);
    stack = undefined;
    rmSync(dataDir, { recursive: true, force: true });
    const r = await cli(['restore', archive, '--data-dir', dataDir]);
    expect(r.code, r.err).toBe(0);

    stack = await startUp(dataDir, base);
    expect(await identity()).toBe(before);
    expect(await balance()).toBe('12.5');
    const job = (await (await fetch(`${scheduler}api/jobs/${jobId}`)).json()) as { status: string };
    expect(job.status).toBe('finished');
  }, 500_000);
});
