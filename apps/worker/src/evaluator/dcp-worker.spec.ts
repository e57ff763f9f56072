import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluatorProcess, spawnEvaluator } from './test-support';

/*
 * The unmodified dcp-worker 3.3.19 (as an unprivileged user, own HOME) pointed at dcp-emu-evaluator:
 * its start-up probe (eval reportingCheck) must pass and it must open a sandbox. There is no
 * scheduler yet (it comes with apps/scheduler), so the run ends there with a SIGTERM.
 */
const root = join(__dirname, '..', '..', '..', '..');
const dcpWorkerBin = join(root, 'node_modules', 'dcp-worker', 'bin', 'dcp-worker');

let ev: EvaluatorProcess;
let home: string;
let worker: ChildProcess | undefined;

function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
  return { uid, gid };
}

beforeAll(async () => {
  ev = await spawnEvaluator({ DCP_EMU_LOG_LEVEL: 'debug' });
  home = mkdtempSync(join(tmpdir(), 'dcp-emu-worker-home-'));
  mkdirSync(join(home, '.dcp', 'dcp-worker'), { recursive: true });
  /* §2.3: no remote config; service locations point at a port nothing listens on */
  const dcp = "new URL('http://127.0.0.1:9/dcp/')";
  writeFileSync(
    join(home, '.dcp', 'dcp-worker', 'dcp-config.js'),
    `{ scheduler: { services: { taskDistributor: { location: ${dcp} }, resultSubmitter: { location: ${dcp} }, eventRouter: { location: ${dcp} } } }, packageManager: { location: ${dcp} } }\n`,
  );
  const ids = unprivileged();
  if (ids)
    for (const p of [home, join(home, '.dcp'), join(home, '.dcp', 'dcp-worker')])
      chownSync(p, ids.uid, ids.gid);
});

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await ev?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Resolves when `read()` matches, re-checked whenever `source` writes; rejects after `timeoutMs`. */
function waitFor(
  source: ChildProcess,
  read: () => string,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(read())) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} in:\n${read()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      source.stdout?.off('data', check);
      source.stderr?.off('data', check);
    };
    source.stdout?.on('data', check);
    source.stderr?.on('data', check);
    check();
  });
}

describe('unmodified dcp-worker 3.3.19 with dcp-emu-evaluator', () => {
  it('passes the evaluator probe, opens a sandbox and closes it on shutdown', async () => {
    const ids = unprivileged();
    let out = '';
    const key = `0x${'ab'.repeat(32)}`;
    worker = spawn(
      process.execPath,
      [
        dcpWorkerBin,
        '-o',
        'console',
        '--port',
        String(ev.port),
        '--hostname',
        '127.0.0.1',
        '-c',
        '1',
        '--paymentAddress',
        '0x1111111111111111111111111111111111111111',
        '--identityKey',
        key,
      ],
      {
        cwd: home,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          LANG: 'C',
          DCP_CONFIG_LOCATION: '',
          DCP_SCHEDULER_LOCATION: 'http://127.0.0.1:9/',
          DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
          DCP_IDENTITY_CACHE_WRITE_DISABLE: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(ids ?? {}),
      },
    );
    worker.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    worker.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });

    await waitFor(worker, () => out, /\* Ready\./, 90_000);
    expect(out).toMatch(/Worktimes Available:\s*\n\s*-\s*map-basic@1\.0\.0/);
    expect(out).toMatch(/WebGPU not enabled/);
    /* probe sandbox (ended with die) + at least one real sandbox opened by the supervisor */
    await ev.waitForOutput(/"msg":"sandbox started"[\s\S]*"msg":"sandbox started"/, 30_000);
    expect(ev.output()).toMatch(/"reason":"die requested"/);

    const exited = new Promise<number | null>((resolve) => worker?.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    await exited;
    /* the supervisor's sandbox is gone too once the worker stopped */
    await ev.waitForOutput(/"msg":"sandbox ended"[\s\S]*"msg":"sandbox ended"/, 10_000);
    expect(out).toMatch(/Worker has stopped/);
  }, 120_000);
});
