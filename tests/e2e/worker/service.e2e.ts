import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestScheduler, type TestScheduler } from '../../../apps/worker/test-support';

const ROOT = join(__dirname, '..', '..', '..');

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The stack's worker process (apps/worker/src/main.ts): evaluator + supervisor + health endpoints. */
describe('worker service', () => {
  let scheduler: TestScheduler;
  let child: ChildProcess;
  let base: string;
  let output = '';
  const payee = Identity.random().address;

  beforeAll(async () => {
    scheduler = await startTestScheduler();
    const [httpPort, evaluatorPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${httpPort}`;
    child = spawn(
      process.execPath,
      ['--no-node-snapshot', '--import', 'tsx', join(ROOT, 'apps/worker/src/main.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DCP_EMU_DATA_DIR: mkdtempSync(join(tmpdir(), 'wsvc-')),
          DCP_EMU_WORKER_PORT: String(httpPort),
          DCP_EMU_EVALUATOR_PORT: String(evaluatorPort),
          DCP_EMU_SCHEDULER_URL: `${scheduler.base}/`,
          DCP_EMU_WORKER_PAYMENT_ADDRESS: payee,
          DCP_EMU_WORKER_SANDBOXES: '2',
          DCP_EMU_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await scheduler.stop();
  });

  it('gets ready (evaluator up, scheduler reachable), computes into the payment address, reports figures', async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await getJson(`${base}/readyz`).catch(() => undefined);
      if (r?.status === 200) {
        expect(r.body.checks).toEqual({ evaluator: 'ok', scheduler: 'ok' });
        break;
      }
      if (Date.now() > deadline) throw new Error(`worker not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    scheduler.addJob({
      jobId: 'svc-job',
      workFunction: 'function (x) { progress(1); return x * x; }',
      data: [1, 2, 3],
    });
    await scheduler.until(() => scheduler.results.length === 3, 60_000, `results; output:\n${output}`);
    expect(scheduler.results.map((r) => r.value).sort()).toEqual([1, 4, 9]);
    expect(new Set(scheduler.results.map((r) => r.paymentAddress))).toEqual(new Set([payee]));
    const deadline2 = Date.now() + 10_000;
    let health = await getJson(`${base}/healthz`);
    while (
      (health.body.supervisor as { slicesCompleted: number }).slicesCompleted < 3 &&
      Date.now() < deadline2
    ) {
      await new Promise((r) => setTimeout(r, 100));
      health = await getJson(`${base}/healthz`);
    }
    expect(health.body.supervisor).toMatchObject({
      state: 'running',
      paymentAddress: payee,
      slicesCompleted: 3,
      earned: 0.75,
    });
  }, 120_000);

  it('is not ready while the scheduler is unreachable; SIGTERM stops it cleanly', async () => {
    await scheduler.stop();
    const r = await getJson(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect((r.body.checks as { scheduler: string }).scheduler).toMatch(/^no scheduler at/);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    scheduler = await startTestScheduler();
  }, 60_000);
});
