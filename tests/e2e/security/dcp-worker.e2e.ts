import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  type Proc,
  peerHome,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The same hostile jobs with the unmodified dcp-worker 3.3.19 as the supervisor and our evaluator as
 * its sandboxes: the evaluator's own defences (WebAssembly budget, hidden prelude) hold whoever
 * supervises it, and dcp-worker's allow-list refuses the scheduler to a work function.
 */
const SCRIPT = join(__dirname, 'hostile-client.cjs');

async function finished(p: Proc, ms = 150_000): Promise<Record<string, unknown>[]> {
  await p.waitFor(/^OUT \{"(done|failed|fatal)"/m, ms);
  await Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))]);
  return p.outputs();
}

describe('hostile jobs on dcp-worker 3.3.19 with our evaluator', () => {
  const dataDir = tempDir('dcp-emu-sec-dw-');
  let scheduler: Proc & { url: string; port: number };
  let evaluator: Proc & { port: number };
  let worker: Proc & { home: string };
  let home = '';
  let script = '';
  const client = (mode: string, env: Record<string, string> = {}) =>
    runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5], ...env },
      [mode],
    );

  beforeAll(async () => {
    scheduler = await startScheduler(dataDir, { DCP_EMU_LEASE_MS: '8000' });
    evaluator = await startEvaluator();
    worker = await startDcpWorker(scheduler.url, evaluator.port);
    home = peerHome('dcp-emu-sec-dw-client-');
    script = writePeerFile(home, 'hostile-client.cjs', readFileSync(SCRIPT, 'utf8'));
  }, 180_000);

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await evaluator?.stop();
    await scheduler?.stop();
    cleanup(dataDir, home, worker?.home);
  });

  it('refuses a work function the scheduler (schedmsg kill via fetch); the worker keeps serving', async () => {
    const targets = [
      { url: `${scheduler.url}api/schedmsg`, method: 'POST' },
      { url: `${scheduler.url}api/jobs`, method: 'GET' },
    ];
    const out = await finished(client('fetch', { TARGETS: JSON.stringify(targets) }));
    const seen =
      ((out.find((o) => 'done' in o)?.done as { error?: string; status?: number }[][]) ?? [])[0] ?? [];
    expect(seen, JSON.stringify(out)).toHaveLength(2);
    for (const r of seen) expect(r.error).toMatch(/Not allowed to fetch/);
    expect(worker.running).toBe(true);
    const ok = await finished(client('array'));
    expect(ok.find((o) => 'done' in o)?.done).toEqual([2, 4, 6, 8]);
  }, 240_000);

  it('ends a WebAssembly memory bomb with ENOMEM and hides the prelude from CallSites', async () => {
    const wasm = await finished(client('wasm'));
    expect(JSON.stringify(wasm)).toMatch(/ENOMEM|ETOOMANYERRORS|too many/i);
    expect(evaluator.running).toBe(true);
    const callsite = await finished(client('callsite'));
    expect(callsite.find((o) => 'done' in o)?.done, JSON.stringify(callsite)).toEqual([[]]);
  }, 300_000);
});
