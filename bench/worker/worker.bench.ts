/**
 * Worker figures (printed, never asserted): the supervisor's per-slice overhead around the work
 * function, through real parts — a dcp-emu-evaluator process on loopback TCP and a DCPv5 scheduler
 * double (packages/worker-core/test-support) answering requestTask@3 / status / result.
 *
 *   - cold start: supervisor start → first result (evaluator describe, assign, requestTask)
 *   - per slice: wall time per accepted result with a trivial work function, and the same minus
 *     the time the sandbox itself measured (= supervisor + DCP + line-protocol overhead)
 *   - signed DCP envelopes per slice (both ways, acks included) and requestTask/status messages per slice
 *   - for 1 sandbox and for N sandboxes in parallel (tasks of free-room size), and N with 50-slice tasks
 *
 * Run from the repository root:
 *   node --no-node-snapshot --import tsx bench/worker/worker.bench.ts [slices=300] [parallel=4]
 *   or: npm run bench:worker -w @dcp-emu/worker
 */
import { Identity } from '@dcp-emu/protocol/node';
import { discoverScheduler, Supervisor } from '../../apps/worker/src/supervisor';
import { freePort, startEvaluatorAt, startTestScheduler } from '../../apps/worker/test-support';

const slices = Number(process.argv[2] ?? 300);
const parallel = Number(process.argv[3] ?? 4);

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const pick = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(2)} ms, p50 ${pick(0.5).toFixed(2)}, p95 ${pick(0.95).toFixed(2)}, max ${pick(1).toFixed(2)}`;
}

async function round(port: number, sandboxes: number, count: number, slicesPerTask?: number) {
  const scheduler = await startTestScheduler(slicesPerTask ? { slicesPerTask } : {});
  const found = await discoverScheduler(scheduler.base);
  const supervisor = new Supervisor({
    identity: Identity.random(),
    services: found.services,
    schedulerOrigin: scheduler.base,
    evaluator: { host: '127.0.0.1', port },
    paymentAddress: Identity.random().address,
    workerId: 'benchbenchbenchbenchbe',
    maxSandboxes: sandboxes,
    watchdogIntervalMs: 1_000,
    schedMsg: false,
  });
  scheduler.addJob({
    jobId: `bench-${sandboxes}`,
    workFunction: 'function (x) { progress(1); return x + 1; }',
    data: Array.from({ length: count }, (_, i) => i),
  });
  const sliceWall: number[] = [];
  const overhead: number[] = [];
  const startedAt = new Map<number, number>();
  supervisor.on('sliceStart', (s) => startedAt.set(s.sliceNumber, performance.now()));
  let firstResult = 0;
  const t0 = performance.now();
  let last = t0;
  const done = new Promise<void>((resolve) => {
    let n = 0;
    supervisor.on('result', (s, info) => {
      const now = performance.now();
      if (n === 0) firstResult = now - t0;
      else sliceWall.push(now - last);
      last = now;
      const began = startedAt.get(s.sliceNumber);
      // time from sandbox hand-out to accepted result, minus what the sandbox measured (CPU ≈ wall here)
      if (began !== undefined) overhead.push(now - began - info.metrics.CPUTime);
      if (++n === count) resolve();
    });
  });
  await supervisor.start();
  await done;
  const total = performance.now() - t0;
  const traffic = supervisor.dcpStats();
  const requests = scheduler.requests.filter((r) => r.operation === 'requestTask@3').length;
  const statuses = scheduler.requests.filter((r) => r.operation === 'status').length;
  await supervisor.stop();
  await scheduler.stop();
  return { firstResult, total, sliceWall, overhead, traffic, requests, statuses };
}

async function main() {
  const port = await freePort();
  const evaluator = await startEvaluatorAt(port);
  try {
    console.log(
      `worker bench: ${slices} slices of a trivial work function; evaluator on 127.0.0.1:${port}\n`,
    );
    // the double hands out as many slices as the worker has free room; dcp-emu's scheduler sizes
    // tasks of measured trivial jobs far larger (up to maxTaskSlices = 200): the last round does too
    for (const [sandboxes, perTask] of [
      [1, undefined],
      [parallel, undefined],
      [parallel, 50],
    ] as const) {
      const r = await round(port, sandboxes, slices, perTask);
      console.log(
        `${sandboxes} sandbox${sandboxes > 1 ? 'es' : ''}${perTask ? `, ${perTask} slices per task` : ''}:`,
      );
      console.log(`  cold start → first result   ${r.firstResult.toFixed(1)} ms`);
      console.log(`  throughput                  ${((slices / r.total) * 1000).toFixed(1)} slices/s`);
      console.log(`  wall per result             ${stats(r.sliceWall)}`);
      console.log(`  hand-out → result − work    ${stats(r.overhead)}  (per-slice overhead)`);
      const t = r.traffic;
      console.log(
        `  signed envelopes per slice  ${((t.envelopesSent + t.envelopesReceived) / slices).toFixed(2)} (${(t.envelopesSent / slices).toFixed(2)} sent, ${(t.envelopesReceived / slices).toFixed(2)} received; ${t.batchesSent} batches sent, ${t.batchesReceived} received)`,
      );
      console.log(
        `  messages per slice          requestTask ${(r.requests / slices).toFixed(2)}, status ${(r.statuses / slices).toFixed(2)}, result 1`,
      );
      console.log('');
    }
  } finally {
    await evaluator.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
