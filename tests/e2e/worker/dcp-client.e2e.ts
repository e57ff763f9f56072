import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, writeClientKeystores } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../apps/worker/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const DCP_CLIENT = join(ROOT, 'node_modules/dcp-client');

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** waits (bounded) until the output matches */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Proc {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group: kill() takes the worker's evaluator along
    detached: true,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const l of [...listeners]) l();
      resolve(code);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before ${re}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${re}:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

async function kill(p: Proc | undefined): Promise<void> {
  const pid = p?.child.pid;
  if (!p || pid === undefined) return;
  try {
    // the whole group: our worker runs its evaluator as a child, which would outlive it
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
  if (p.child.exitCode === null && p.child.signalCode === null) await p.exited;
}

/**
 * Acceptance with real peers: the unmodified dcp-client 5.6.1 submits through our scheduler and our
 * worker (dcp-emu-worker with its own dcp-emu-evaluator) computes the slices.
 */
describe('our worker computes unmodified dcp-client 5.6.1 jobs through our scheduler', () => {
  let scheduler: Proc;
  let worker: Proc;
  let schedulerUrl: string;
  let home: string;
  const payee = Identity.random().address;

  beforeAll(async () => {
    const port = await freePort();
    schedulerUrl = `http://127.0.0.1:${port}/`;
    scheduler = run(process.execPath, ['--import', 'tsx', join(ROOT, 'apps/scheduler/src/main.ts')], {
      TSX_TSCONFIG_PATH: join(ROOT, 'apps/scheduler/tsconfig.json'),
      DCP_EMU_DATA_DIR: mkdtempSync(join(tmpdir(), 'sched-')),
      DCP_EMU_SCHEDULER_PORT: String(port),
      DCP_EMU_LOG_LEVEL: 'info',
    });
    await scheduler.waitFor(/"msg":"listening"/, 90_000);
    worker = await startWorker(2);
    await worker.waitFor(/Sandboxes: 2/, 60_000);
    home = mkdtempSync(join(tmpdir(), 'client-home-'));
    writeClientKeystores(join(home, '.dcp'));
  }, 180_000);

  let second: Proc | undefined;

  afterAll(async () => {
    await kill(worker);
    await kill(second);
    await kill(scheduler);
  });

  async function startWorker(cores: number): Promise<Proc> {
    return run(
      process.execPath,
      [
        join(ROOT, 'apps/worker/bin/dcp-emu-worker.js'),
        '--dcp-scheduler',
        schedulerUrl,
        '-o',
        'console',
        '-c',
        String(cores),
        '-p',
        String(await freePort()),
        '--paymentAddress',
        payee,
        '--data-dir',
        mkdtempSync(join(tmpdir(), 'wdata-')),
        '-W',
        '500',
      ],
      { DCP_EMU_WORKER_FROM_SOURCE: '1', DCP_EMU_LOG_LEVEL: 'info' },
    );
  }

  const client = (script: string) =>
    run(process.execPath, [script], {
      HOME: home,
      DCP_SCHEDULER_LOCATION: schedulerUrl,
      DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    });

  it("dcp-client's examples/nodejs/simple-job.js completes", async () => {
    const job = client(join(DCP_CLIENT, 'examples/nodejs/simple-job.js'));
    await job.waitFor(/Job completed, here are the results: {2}\[ 2, 4, 6, 8 \]/, 90_000);
    expect(await job.exited).toBe(0);
    expect(worker.output()).toMatch(/Slice Completed: .* slice 4/);
    expect(worker.output()).toContain(`Payment address: ${payee}`);
  }, 120_000);

  it('kill -9 of the evaluator mid-slice: the worker restarts it and the slice is re-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-'));
    const script = join(dir, 'slow-job.js');
    writeFileSync(
      script,
      `require(${JSON.stringify(DCP_CLIENT)}).init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([5], (x) => { const t = Date.now(); while (Date.now() - t < 4000) {} progress(1); return x * 3; });
  const results = await job.exec(compute.marketRate);
  console.log('RESULTS', JSON.stringify(Array.from(results)));
});
`,
    );
    const before = worker.output().length;
    const job = client(script);
    const started = () => worker.output().slice(before);
    await worker.waitFor(new RegExp(`[\\s\\S]{${before}}[\\s\\S]*Slice Started: .* slice 1`), 90_000);
    // the evaluator's pid is in its own start-up log line (it logs to the worker's output)
    const pids = [...worker.output().matchAll(/"service":"evaluator","pid":(\d+)/g)].map((m) => Number(m[1]));
    const evaluatorPid = pids.at(-1);
    expect(evaluatorPid).toBeGreaterThan(0);
    process.kill(evaluatorPid as number, 'SIGKILL');
    await job.waitFor(/RESULTS \[15\]/, 90_000);
    expect(await job.exited).toBe(0);
    expect(started()).toMatch(/lost .*re-running slice 1/);
    expect(started().match(/Slice Started: .* slice 1/g)?.length).toBe(2);
  }, 150_000);

  it('SIGINT: running slices finish and are paid, queued ones go back; another worker completes the job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-'));
    const script = join(dir, 'four-slices.js');
    writeFileSync(
      script,
      `require(${JSON.stringify(DCP_CLIENT)}).init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for([1, 2, 3, 4], (x) => { const t = Date.now(); while (Date.now() - t < 2500) {} progress(1); return x * 100; });
  const results = await job.exec(compute.marketRate);
  console.log('RESULTS', JSON.stringify(Array.from(results)));
});
`,
    );
    const before = worker.output().length;
    const job = client(script);
    await worker.waitFor(
      new RegExp(`[\\s\\S]{${before}}[\\s\\S]*Slice Started[\\s\\S]*Slice Started`),
      90_000,
    );
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    const mine = worker.output().slice(before);
    const completed = mine.match(/Slice Completed/g)?.length ?? 0;
    expect(completed, mine).toBeGreaterThanOrEqual(2);
    expect(mine).toContain('Worker stopped');
    second = await startWorker(2);
    await job.waitFor(/RESULTS \[100,200,300,400\]/, 120_000);
    expect(await job.exited).toBe(0);
  }, 240_000);
});
