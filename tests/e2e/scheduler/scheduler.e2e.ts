import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  ROOT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

const SIMPLE_JOB = join(DCP_CLIENT[5], 'examples/nodejs/simple-job.js');
const SCRIPT = join(__dirname, 'client-script.cjs');

async function finished(p: Proc, ms = 90_000): Promise<Record<string, unknown>[]> {
  await p.waitFor(/^OUT \{"(done|failed|fatal)"/m, ms);
  await Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))]);
  return p.outputs();
}

/**
 * The unmodified dcp-client (5.6.1 and 4.4.x) deploys jobs to our scheduler; the unmodified
 * dcp-worker 3.3.19 on our evaluator computes them. Every peer is a real process.
 */
describe('scheduler with unmodified dcp-client and dcp-worker', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-sched-'));
  let scheduler: Proc & { url: string; port: number };
  let evaluator: Proc & { port: number };
  let worker: Proc & { home: string };
  let clientHome: string;
  let script: string;

  beforeAll(async () => {
    scheduler = await startScheduler(dataDir, { DCP_EMU_LEASE_MS: '8000' });
    evaluator = await startEvaluator();
    worker = await startDcpWorker(scheduler.url, evaluator.port);
    clientHome = peerHome('dcp-emu-client-');
    script = writePeerFile(clientHome, 'client-script.cjs', require('node:fs').readFileSync(SCRIPT, 'utf8'));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await evaluator?.stop();
    await scheduler?.stop();
    cleanup(dataDir, clientHome, worker?.home);
  });

  it('runs the unmodified simple-job.js example: [2,4,6,8], exits by itself', async () => {
    const client = runClient(clientHome, SIMPLE_JOB, { DCP_SCHEDULER_LOCATION: scheduler.url });
    expect(
      await Promise.race([client.exited, new Promise((r) => setTimeout(() => r('timeout'), 90_000))]),
    ).toBe(0);
    expect(client.out).toContain('Job completed, here are the results:  [ 2, 4, 6, 8 ]');
    expect(worker.out).toMatch(/Slice Completed/);
  }, 120_000);

  it('runs a range job with arguments and delivers console events', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['range'],
    );
    const out = await finished(client);
    expect(out.find((o) => 'done' in o)?.done).toEqual([11, 51, 91]);
    const consoles = out.filter((o) => 'console' in o).map((o) => o.console);
    expect(consoles).toEqual(
      expect.arrayContaining([
        ['slice', 1],
        ['slice', 5],
        ['slice', 9],
      ]),
    );
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const job = await getJson<{ status: string; inputKind: string; slices: { done: number } }>(
      `${scheduler.url}api/jobs/${id}`,
    );
    expect(job).toMatchObject({ status: 'finished', inputKind: 'range', slices: { done: 3 } });
  }, 120_000);

  it("dcp-util's dcping deploys a job and sees it complete (the served config has the sections it sets)", async () => {
    // --no-discrete: a discrete job runs one slice per worker, and this stack has one dcp-worker
    const ping = runClient(
      clientHome,
      join(ROOT, 'node_modules/dcp-util/bin/dcping'),
      { DCP_SCHEDULER_LOCATION: scheduler.url },
      ['-c', '1', '--no-discrete'],
    );
    const code = await Promise.race([
      ping.exited,
      new Promise((r) => setTimeout(() => r('timeout'), 90_000)),
    ]);
    expect(code, ping.out).toBe(0);
    expect(ping.out).toMatch(/1 jobs deployed, 1 jobs completed/);
    expect(ping.out).toMatch(/3 slices submitted to scheduler, 3 slices returned/);
  }, 120_000);

  it('runs a multi-range job (compute.for({ ranges })): one slice per tuple, in dcp-client order', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['multirange'],
    );
    const out = await finished(client);
    expect(out.find((o) => 'done' in o)?.done).toEqual([10, 20, 30, 20, 40, 60]);
  }, 120_000);

  it('runs a dcp-client 4.4.x job (submit@2, KVIN v8, pheme report at the end)', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[4] },
      ['array'],
    );
    const out = await finished(client);
    expect(out.find((o) => 'done' in o)?.done).toEqual([2, 4, 6, 8]);
  }, 120_000);

  it('turns a work-function exception into an error event', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['errors'],
    );
    const out = await finished(client);
    const errors = out.filter((o) => 'error' in o && 'slice' in o);
    expect(errors).toEqual([{ error: 'bad slice 2', slice: 2 }]);
    expect(out.find((o) => 'done' in o)?.done).toEqual([1, { error: 'bad slice 2' }, 3]);
  }, 120_000);

  it('serves job.requires modules published to the package manager', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['modules'],
    );
    const out = await finished(client);
    expect(out.find((o) => 'done' in o)?.done).toEqual([3, 6, 9]);
  }, 120_000);

  it('cancels a job: the client gets stop/cancelled and exec rejects', async () => {
    const client = runClient(
      clientHome,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['cancel'],
    );
    const out = await finished(client);
    expect(out.find((o) => 'failed' in o)?.failed).toBe('enough');
    expect(out.find((o) => 'cancelEvent' in o)?.cancelEvent).toBe('enough');
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    expect((await getJson<{ status: string }>(`${scheduler.url}api/jobs/${id}`)).status).toBe('cancelled');
  }, 120_000);
});
