/**
 * Evaluator figures (printed, never asserted):
 *   - isolate start: a fresh sandbox (isolate + context + prelude + KVIN) until __sandboxLoaded
 *   - raw sandbox calls/s: eval round trips through one sandbox, no TCP
 *   - per-slice overhead through the line protocol: resetState + main → complete on loopback TCP,
 *     one sandbox sequentially and N sandboxes in parallel
 *
 * Run from the repository root:
 *   node --no-node-snapshot --import tsx bench/evaluator/evaluator.bench.ts [slices] [parallel]
 */
import { createLogger } from '@dcp-emu/service-kit';
import { loadEvaluatorConfig } from '../../apps/worker/src/evaluator/config';
import { kvinV8 } from '../../apps/worker/src/evaluator/kvin';
import { Sandbox } from '../../apps/worker/src/evaluator/sandbox';
import { startEvaluator } from '../../apps/worker/src/evaluator/server';
import { assignJob, LineClient, runSlice } from '../../apps/worker/src/evaluator/test-support';

const slices = Number(process.argv[2] ?? 2000);
const parallel = Number(process.argv[3] ?? 8);
const limits = {
  memoryLimitMb: 128,
  progressTimeoutMs: 60_000,
  sliceCpuLimitMs: 60_000,
  callTimeoutMs: 20_000,
  wasmBudgetBytes: 512 * 1024 * 1024,
  wasmMaxPages: 4096,
};

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const pick = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(3)} ms, p50 ${pick(0.5).toFixed(3)}, p95 ${pick(0.95).toFixed(3)}, max ${pick(1).toFixed(3)}`;
}

/** A sandbox whose lines resolve the pending waiter when `request` appears. */
async function openSandbox(): Promise<{
  sandbox: Sandbox;
  next(request: string): Promise<void>;
  ms: number;
}> {
  let waiting: { request: string; resolve: () => void } | undefined;
  let loaded!: () => void;
  const ready = new Promise<void>((r) => {
    loaded = r;
  });
  const t0 = performance.now();
  const sandbox = await Sandbox.create(limits, {
    line: (_kind, line) => {
      if (!line.startsWith('MSG:')) return;
      const env = JSON.parse(line.slice(4));
      if (env.type !== 'workerMessage') return;
      const v = (kvinV8.unmarshal(env.message) as { value: { request: string } }).value;
      if (v.request === '__sandboxLoaded') loaded();
      if (waiting && v.request === waiting.request) {
        const w = waiting;
        waiting = undefined;
        w.resolve();
      }
    },
    exit: () => undefined,
  });
  await ready;
  const ms = performance.now() - t0;
  return {
    sandbox,
    ms,
    next: (request) =>
      new Promise<void>((resolve) => {
        waiting = { request, resolve };
      }),
  };
}

async function isolateStart(): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s = await openSandbox();
    times.push(s.ms);
    s.sandbox.close('bench');
  }
  console.log(
    `isolate start (isolate + prelude → __sandboxLoaded), 30 runs: ${stats(times.slice(1))} (first ${times[0]?.toFixed(1)} ms)`,
  );
}

async function rawCalls(): Promise<void> {
  const s = await openSandbox();
  const n = 5000;
  const message = kvinV8.marshal({ request: 'eval', data: '1 + 1', msgId: 'b' });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const done = s.next('evalResult::b');
    void s.sandbox.dispatch(message);
    await done;
  }
  const ms = performance.now() - t0;
  console.log(
    `raw sandbox calls (eval round trip, no TCP): ${Math.round((n / ms) * 1000)} calls/s (${((ms / n) * 1000).toFixed(1)} µs each)`,
  );
  s.sandbox.close('bench');
}

async function protocolSlices(port: number): Promise<void> {
  const wf = 'function (d) { progress(1); return d * 2; }';
  const c = await LineClient.connect(port);
  await assignJob(c, wf);
  for (let i = 0; i < 50; i++) await runSlice(c, i); // warm-up
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < slices; i++) {
    const s = performance.now();
    await runSlice(c, i);
    times.push(performance.now() - s);
    if (c.lines.length > 10_000) c.lines.length = 0;
  }
  const total = performance.now() - t0;
  console.log(
    `per-slice overhead, 1 sandbox over TCP, ${slices} slices: ${stats(times)}; ${Math.round((slices / total) * 1000)} slices/s`,
  );
  c.close();

  const clients = await Promise.all(
    Array.from({ length: parallel }, async () => {
      const x = await LineClient.connect(port);
      await assignJob(x, wf);
      return x;
    }),
  );
  const p0 = performance.now();
  const per = Math.ceil(slices / parallel);
  await Promise.all(
    clients.map(async (x) => {
      for (let i = 0; i < per; i++) {
        await runSlice(x, i);
        if (x.lines.length > 10_000) x.lines.length = 0;
      }
    }),
  );
  const pt = performance.now() - p0;
  console.log(
    `throughput, ${parallel} sandboxes in parallel, ${per * parallel} slices: ${Math.round(((per * parallel) / pt) * 1000)} slices/s`,
  );
  for (const x of clients) x.close();
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}`);
  await isolateStart();
  await rawCalls();
  const config = {
    ...loadEvaluatorConfig({}),
    port: 0,
    maxSandboxes: parallel + 4,
    logLevel: 'silent' as const,
  };
  const ev = await startEvaluator(config, createLogger('evaluator-bench', 'silent'));
  await protocolSlices(ev.port);
  await ev.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
