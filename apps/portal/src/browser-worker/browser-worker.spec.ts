import { Identity } from '@dcp-emu/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestScheduler, type TestScheduler } from '@dcp-emu/worker-core/test-support';
import { BrowserWorker, type BrowserWorkerStatus, randomWorkerId } from './browser-worker';
import { sandboxScript } from './sandbox-sources';
import { VmWorker } from './vm-worker.fixture';
import { webWorkerSandboxes } from './web-worker-channel';

/**
 * The page's worker against the worker's scheduler double (a real DcpTarget on loopback), with its
 * sandboxes being the real browser sandbox script in `vm` "Web Workers": slices computed, results
 * with our payment address, status for the UI, and a clean stop.
 */
let scheduler: TestScheduler | undefined;
let worker: BrowserWorker | undefined;
const vmWorkers: VmWorker[] = [];

afterEach(async () => {
  await worker?.stop(true);
  worker = undefined;
  await scheduler?.stop();
  scheduler = undefined;
  for (const w of vmWorkers.splice(0)) w.terminate();
});

function browserWorker(s: TestScheduler, paymentAddress: string): BrowserWorker {
  return new BrowserWorker({
    schedulerUrl: `${s.base}/`,
    paymentAddress,
    maxSandboxes: 2,
    watchdogIntervalMs: 200,
    cleanupTimeoutMs: 5_000,
    sandboxes: webWorkerSandboxes('data:unused', () => {
      const w = new VmWorker(sandboxScript());
      vmWorkers.push(w);
      return w;
    }),
  });
}

describe('BrowserWorker', () => {
  it('makes 22-character worker ids', () => {
    const a = randomWorkerId();
    expect(a).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(randomWorkerId()).not.toBe(a);
  });

  it('computes slices into the chosen account, tracks progress, and disconnects on stop', async () => {
    scheduler = await startTestScheduler({ payment: 0.5 });
    const payee = Identity.random().address;
    worker = browserWorker(scheduler, payee);
    const seen: BrowserWorkerStatus[] = [];
    worker.subscribe((s) => seen.push(s));
    scheduler.addJob({
      jobId: 'job-b',
      name: 'squares',
      workFunction: 'async function (x) { progress(0.5); console.log("x", x); progress(1); return x * x; }',
      data: [1, 2, 3, 4, 5, 6],
    });
    await worker.start();
    expect(worker.status.phase).toBe('working');
    const s = scheduler;
    await s.until(() => s.results.length === 6, 30_000, '6 results');
    const w = worker;
    await s.until(() => w.status.slicesComputed === 6, 5_000, 'status counts 6');
    expect(Object.fromEntries(s.results.map((r) => [r.slice, r.value]))).toEqual({
      1: 1,
      2: 4,
      3: 9,
      4: 16,
      5: 25,
      6: 36,
    });
    for (const r of s.results) {
      expect(r.paymentAddress).toBe(payee);
      expect(r.worker).toBe(w.status.workerId);
    }
    expect(w.status.earned).toBeCloseTo(3);
    expect(w.status.jobs).toEqual({ 'job-b': { name: 'squares', computed: 6 } });
    expect(seen.some((st) => st.slices.some((sl) => sl.state === 'working'))).toBe(true);
    expect(w.status.identity).toBe(w.identity.address);
    // the ephemeral identity signs; its key is nowhere in what the scheduler received
    const key = w.identity.privateKeyHex.replace(/^0x/, '');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(s.requests).toLowerCase()).not.toContain(key);

    await w.stop();
    expect(w.status.phase).toBe('stopped');
    expect(w.status.log.at(-1)?.message).toBe('disconnected from the scheduler');
    expect(vmWorkers.every((v) => v.closed)).toBe(true);
    expect(s.returns).toEqual([]);
  });

  it('fails visibly when the scheduler cannot be reached', async () => {
    worker = new BrowserWorker({
      schedulerUrl: 'http://127.0.0.1:9/',
      paymentAddress: Identity.random().address,
      maxSandboxes: 1,
      sandboxes: webWorkerSandboxes('data:unused', () => new VmWorker(sandboxScript())),
    });
    await worker.start();
    expect(worker.status.phase).toBe('failed');
    expect(worker.status.error).toMatch(/cannot reach the scheduler/);
  });
});
