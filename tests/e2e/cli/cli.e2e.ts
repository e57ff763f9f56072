import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const SIMPLE_JOB = join(ROOT, 'node_modules/dcp-client/examples/nodejs/simple-job.js');
const BANK_UTILITY = join(ROOT, 'node_modules/dcp-util/bin/bank-utility');
const DCP_WORKER = join(ROOT, 'node_modules/dcp-worker/bin/dcp-worker');
const ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const ACCOUNT1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** dcp-worker and dcp-client's evaluator refuse root: DCP programs run as `nobody` when we are root. */
const peer: { uid: number; gid: number } | undefined =
  process.getuid?.() === 0
    ? {
        uid: Number(execFileSync('id', ['-u', 'nobody']).toString().trim()),
        gid: Number(execFileSync('id', ['-g', 'nobody']).toString().trim()),
      }
    : undefined;

function chownTree(path: string): void {
  if (!peer) return;
  chownSync(path, peer.uid, peer.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f));
}

/** A fresh HOME with no ~/.dcp, owned by the peer user. */
function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'dcp-emu-cli-home-'));
  chownTree(home);
  return home;
}

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command to its end (bounded), optionally as the peer user with its own HOME and env only. */
function exec(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; home?: string; asPeer?: boolean; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((res, rej) => {
    const child = spawn(command, args, {
      cwd: opts.home ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.asPeer && peer ? peer : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${command} ${args.join(' ')} timed out:\n${out}\n${err}`));
    }, opts.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, out, err });
    });
  });
}

const cli = (args: string[], opts: Parameters<typeof exec>[2] = {}) =>
  exec(process.execPath, [CLI, ...args], opts);

/** Only what a user's shell would have: PATH, HOME, and the lines `dcp-emu env` printed. */
function shellEnv(home: string, exports: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C' };
  for (const m of exports.matchAll(/^export (\w+)=(.*)$/gm))
    env[m[1] as string] = (m[2] as string).replace(/^'|'$/g, '');
  // running as `nobody` on files root installed: dcp-client 4's ownership check on config files
  if (peer) env.DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION = '1';
  return env;
}

describe('dcp-emu CLI against a real stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-cli-'));
  const homes: string[] = [];
  let up: ChildProcess | undefined;
  let upExited: Promise<number | null> | undefined;
  let upOut = '';
  let base = 0;
  const dd = ['--data-dir', dataDir];
  let dataDirMode = 0;

  beforeAll(async () => {
    base = await freePortBase();
    up = spawn(
      process.execPath,
      [CLI, 'up', '--no-build', '--no-portal', '--workers', '2', ...dd, '--port-base', String(base)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    up.stderr?.on('data', (d) => {
      err += d;
    });
    upExited = new Promise((res) => up?.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${upOut}\n${err}`)), 150_000);
      up?.stdout?.on('data', (d) => {
        upOut += d;
        if (upOut.includes('run a program:')) {
          clearTimeout(timer);
          res();
        }
      });
      upExited?.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${upOut}\n${err}`)));
    });
    dataDirMode = statSync(dataDir).mode & 0o777;
    if (peer) {
      // a real user runs `up` and their programs as themselves; here the programs run as `nobody`
      chmodSync(dataDir, 0o755);
      chownTree(join(dataDir, 'resources'));
      chownTree(join(dataDir, 'home'));
    }
  }, 180_000);

  afterAll(async () => {
    up?.kill('SIGINT');
    const code = await Promise.race([upExited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    if (code === 'timeout') up?.kill('SIGKILL');
    for (const d of [dataDir, ...homes]) rmSync(d, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 30_000);

  it('up lists the funded dev accounts and the env, with keystores in its own resource dir', async () => {
    expect(upOut).toContain(`(0) ${ACCOUNT0}  1000 DCC`);
    expect(upOut).toContain(`(9) 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720  1000 DCC`);
    expect(upOut).toContain(`export DCP_SCHEDULER_LOCATION=http://127.0.0.1:${base}/`);
    expect(upOut).toContain(`export DCP_RESOURCE_DIR=${join(dataDir, 'resources')}`);
    expect(readdirSync(join(dataDir, 'resources')).sort()).toEqual(
      expect.arrayContaining(['default.keystore', 'id.keystore']),
    );
    const env = await cli(['env', ...dd]);
    expect(env.code).toBe(0);
    expect(upOut).toContain(env.out.trim());
  });

  it('keeps the data dir private: the dir 0700, databases (with -wal/-shm), keystores, token, logs and snapshots 0600', () => {
    expect(dataDirMode.toString(8)).toBe('700');
    const open: string[] = [];
    const seen: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const path = join(dir, f);
        const st = statSync(path);
        seen.push(path.slice(dataDir.length + 1));
        if ((st.mode & 0o077) !== 0) open.push(`${path} ${(st.mode & 0o777).toString(8)}`);
        if (st.isDirectory()) walk(path);
      }
    };
    walk(dataDir);
    expect(open).toEqual([]);
    expect(seen).toEqual(
      expect.arrayContaining(['admin.token', 'resources/id.keystore', 'logs/scheduler.log', 'logs/bank.log']),
    );
    expect(seen.some((f) => /\.sqlite-wal$/.test(f))).toBe(true);
    expect(seen.some((f) => f.startsWith('snapshots/'))).toBe(true);
  });

  it('run: the unmodified dcp-client simple-job.js gets its results; no ~/.dcp appears', async () => {
    const home = freshHome();
    homes.push(home);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C' };
    // `run` as `nobody` reads the stack's record, which `up` (root here) wrote private
    if (peer) chmodSync(join(dataDir, 'stack.json'), 0o644);
    const r = await cli(['run', ...dd, SIMPLE_JOB], { env, home, asPeer: true, timeoutMs: 120_000 });
    expect(r.err).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[ 2, 4, 6, 8 ]');
    expect(existsSync(join(home, '.dcp'))).toBe(false);
  }, 150_000);

  it('the printed env makes dcp-util bank-utility and dcp-worker 3.3.19 use the stack and the dev key', async () => {
    const exports = (await cli(['env', ...dd])).out;
    const home = freshHome();
    homes.push(home);
    const env = shellEnv(home, exports);
    const balance = await exec(process.execPath, [BANK_UTILITY, 'balance'], { env, home, asPeer: true });
    // the dev key's account, as the bank's REST API shows it (the job run before paid for its slices)
    const bank = `http://127.0.0.1:${base + 1}/`;
    const rest = ((await (await fetch(`${bank}api/accounts/${ACCOUNT0}`)).json()) as { balance: string })
      .balance;
    const shown = new RegExp(`Account info for ${ACCOUNT0.toLowerCase()}:\\s+Balance: ([\\d.]+)`).exec(
      `${balance.out}${balance.err}`,
    );
    expect(shown, `${balance.out}${balance.err}`).not.toBeNull();
    expect(Number(shown?.[1])).toBe(Number(rest));
    expect(Number(rest)).toBeGreaterThan(999);
    expect(balance.code).toBe(0);

    const worker = spawn(
      process.execPath,
      [DCP_WORKER, '-o', 'console', '--port', String(base + 4), '--hostname', '127.0.0.1', '-c', '1'],
      { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'], ...(peer ?? {}) },
    );
    let out = '';
    worker.stdout.on('data', (d) => {
      out += d;
    });
    worker.stderr.on('data', (d) => {
      out += d;
    });
    try {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`dcp-worker not ready:\n${out}`)), 60_000);
        const check = () => {
          if (out.includes('* Ready.')) {
            clearTimeout(timer);
            res();
          }
        };
        worker.stdout.on('data', check);
        worker.once('exit', (code) => rej(new Error(`dcp-worker exited ${code}:\n${out}`)));
      });
      expect(out).toContain(`Configured for scheduler http://127.0.0.1:${base}/`);
      expect(out).toContain(`Identity is ${ACCOUNT0}`);
    } finally {
      worker.kill('SIGKILL');
    }
    expect(existsSync(join(home, '.dcp'))).toBe(false);
  }, 120_000);

  it('status shows services, jobs and balances; logs prints a service log', async () => {
    const s = await cli(['status', ...dd]);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/scheduler\s+up/);
    expect(s.out).toMatch(/bank\s+up/);
    expect(s.out).toMatch(/worker: \w+, 2 sandboxes/);
    expect(s.out).toContain('jobs: finished 1');
    expect(s.out).toContain(`(1) ${ACCOUNT1}  1000 DCC`);
    const json = JSON.parse((await cli(['status', '--json', ...dd])).out) as { jobs: Record<string, number> };
    expect(json.jobs).toEqual({ finished: 1 });

    const logs = await cli(['logs', 'scheduler', '-n', '3', '--json', ...dd]);
    expect(logs.code).toBe(0);
    const lines = logs.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('service');
    // readable by default: time, service, level, message
    const pretty = await cli(['logs', 'scheduler', '-n', '3', ...dd]);
    expect(pretty.code).toBe(0);
    expect(pretty.out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} scheduler +(INFO|WARN|DEBUG|ERROR) +\S/);
    expect(pretty.out).not.toContain('{"level"');
    // every command has --help
    const help = await cli(['logs', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: dcp-emu logs/);
  });

  it('snapshot save / reset / snapshot restore round-trip a stack with a finished job', {
    timeout: 180_000,
  }, async () => {
    const scheduler = `http://127.0.0.1:${base}/`;
    const bank = `http://127.0.0.1:${base + 1}/`;
    const jobs = async () =>
      ((await (await fetch(`${scheduler}api/jobs`)).json()) as { jobs: { id: string; status: string }[] })
        .jobs;
    const balance = async (a: string) =>
      ((await (await fetch(`${bank}api/accounts/${a}`)).json()) as { balance: string }).balance;
    const [job] = await jobs();
    expect(job?.status).toBe('finished');
    const mint = await fetch(`${bank}api/faucet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: ACCOUNT1, amount: '5' }),
    });
    expect(mint.status).toBe(201);
    expect(await balance(ACCOUNT1)).toBe('1005');

    const saved = await cli(['snapshot', 'save', 'with-job', ...dd]);
    expect(saved.code, saved.err).toBe(0);
    // each service's database, copied by that service (no portal in this stack)
    expect(readdirSync(join(dataDir, 'snapshots', 'with-job')).sort()).toEqual([
      'bank.sqlite',
      'scheduler.sqlite',
    ]);
    expect(existsSync(join(dataDir, 'dcp-emu.sqlite'))).toBe(false);
    const list = await cli(['snapshot', 'list', ...dd]);
    expect(list.out).toMatch(/^@seed\s/m);
    expect(list.out).toMatch(/^with-job\s/m);

    const reset = await cli(['reset', ...dd]);
    expect(reset.code, reset.err).toBe(0);
    expect(reset.out).toMatch(/reset to the seeded state in \d+ ms/);
    expect(await jobs()).toEqual([]);
    expect(await balance(ACCOUNT1)).toBe('1000');
    expect(await balance(ACCOUNT0)).toBe('1000');

    const restored = await cli(['snapshot', 'restore', 'with-job', ...dd]);
    expect(restored.code, restored.err).toBe(0);
    expect((await jobs()).map((j) => [j.id, j.status])).toEqual([[job?.id, 'finished']]);
    expect(await balance(ACCOUNT1)).toBe('1005');
    const results = (await (await fetch(`${scheduler}api/jobs/${job?.id}/results`)).json()) as {
      results: unknown[];
    };
    expect(results.results).toHaveLength(4);

    // the scheduler keeps working on the restored state: a new job runs to its results
    const home = freshHome();
    homes.push(home);
    const again = await cli(['run', ...dd, SIMPLE_JOB], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C' },
      home,
      asPeer: true,
      timeoutMs: 120_000,
    });
    expect(again.out).toContain('[ 2, 4, 6, 8 ]');
    expect((await jobs()).map((j) => j.status).sort()).toEqual(['finished', 'finished']);

    const missing = await cli(['snapshot', 'restore', 'never-saved', ...dd]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no snapshot/);
  });

  it('commands that need a stack say how to start one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dcp-emu-cli-none-'));
    homes.push(empty);
    const r = await cli(['run', '--data-dir', empty, SIMPLE_JOB]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no dcp-emu stack is running: start one with `dcp-emu up`/);
  });
});
