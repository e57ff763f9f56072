import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity } from '@dcp-emu/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startTestScheduler, type TestScheduler } from '../../../apps/worker/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'apps/worker/bin/dcp-emu-worker.js');

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runWorker(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, DCP_EMU_WORKER_FROM_SOURCE: '1', HOME: mkdtempSync(join(tmpdir(), 'wh-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** `dcp-emu-worker` as a process: flags, its own evaluator, console output, SIGINT handling. */
describe('dcp-emu-worker command', () => {
  let scheduler: TestScheduler | undefined;
  let proc: Proc | undefined;

  afterEach(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    proc = undefined;
    await scheduler?.stop();
    scheduler = undefined;
  });

  async function start(extra: string[] = []) {
    scheduler = await startTestScheduler();
    const payee = Identity.random().address;
    const evaluatorPort = await freePort();
    proc = runWorker([
      '--dcp-scheduler',
      `${scheduler.base}/`,
      '-o',
      'console',
      '-p',
      String(evaluatorPort),
      '--paymentAddress',
      payee,
      '--data-dir',
      mkdtempSync(join(tmpdir(), 'wd-')),
      '-W',
      '300',
      ...extra,
    ]);
    return { scheduler, proc, payee };
  }

  it('computes slices into the payment address and exits 0 on SIGINT after submitting the running slice', async () => {
    const { scheduler, proc, payee } = await start(['-c', '2', '-g', 'team,pw']);
    scheduler.addJob({
      jobId: 'cli-job',
      name: 'cli job',
      workFunction: 'function (x) { progress(1); return x + 1; }',
      data: [1, 2, 3, 4],
    });
    await scheduler.until(
      () => scheduler.results.length === 4,
      60_000,
      `4 results; output:\n${proc.output()}`,
    );
    expect(scheduler.results.map((r) => r.value).sort()).toEqual([2, 3, 4, 5]);
    expect(new Set(scheduler.results.map((r) => r.paymentAddress))).toEqual(new Set([payee]));
    const req = scheduler.requests.find((r) => r.operation === 'requestTask@3')?.data;
    expect(((req?.workerComputeGroups ?? []) as { joinKey: string }[]).map((g) => g.joinKey)).toEqual([
      'team',
      'public',
    ]);
    await scheduler.until(() => /Payment: 0\.250000 DCC/.test(proc.output()), 10_000, 'payment line');
    expect(proc.output()).toContain('Slice Completed: cli job slice');

    scheduler.addJob({
      jobId: 'cli-slow',
      name: 'slow',
      workFunction:
        'function (x) { const t = Date.now(); while (Date.now() - t < 1500) {} progress(1); return x; }',
      data: [9],
    });
    await scheduler.until(
      () => scheduler.begins.some((b) => b.jobId === 'cli-slow'),
      30_000,
      'slow slice begun',
    );
    proc.child.kill('SIGINT');
    const exit = await proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(scheduler.results.find((r) => r.jobId === 'cli-slow')?.value).toBe(9);
    expect(scheduler.requests.filter((r) => r.operation === 'unsubscribe')).toHaveLength(3);
  }, 120_000);

  it('a second SIGINT returns the running slice and exits', async () => {
    const { scheduler, proc } = await start(['-c', '1']);
    scheduler.addJob({
      jobId: 'cli-long',
      workFunction:
        'function (x) { const t = Date.now(); while (Date.now() - t < 20000) {} progress(1); return x; }',
      data: [1],
    });
    await scheduler.until(
      () => scheduler.begins.length === 1,
      60_000,
      `slice begun; output:\n${proc.output()}`,
    );
    proc.child.kill('SIGINT');
    await scheduler.until(() => /stopping \(finishing/.test(proc.output()), 10_000, 'first signal seen');
    proc.child.kill('SIGINT');
    const exit = await proc.exited;
    expect(exit.code).toBe(0);
    expect(scheduler.returns).toEqual([
      { jobId: 'cli-long', sliceNumbers: [1], reason: 'JobManager destroy' },
    ]);
    expect(scheduler.results).toEqual([]);
  }, 120_000);

  it('-o dashboard draws sandboxes, slices and DCC earned, and restores the terminal on exit', async () => {
    const { scheduler, proc } = await start(['-c', '1', '-o', 'dashboard']);
    scheduler.addJob({
      jobId: 'dash-job',
      name: 'dash job',
      workFunction: 'function (x) { progress(1); return x; }',
      data: [1, 2],
    });
    await scheduler.until(() => scheduler.results.length === 2, 60_000, `results; output:\n${proc.output()}`);
    await scheduler.until(() => proc.output().includes('slices completed: 2'), 10_000, 'redraw');
    expect(proc.output()).toContain('DCC earned: 0.500000');
    expect(proc.output()).toContain('dash job slice 2 completed');
    proc.child.kill('SIGINT');
    expect((await proc.exited).code).toBe(0);
    expect(proc.output().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
  }, 120_000);

  it('prints usage for bad flags', async () => {
    const p = runWorker(['--no-such-flag']);
    const exit = await p.exited;
    expect(exit.code).toBe(2);
    expect(p.output()).toContain('unknown option --no-such-flag');
    expect(p.output()).toContain('Usage: dcp-emu-worker');
  }, 60_000);
});
