/**
 * Our worker end to end (printed, never asserted): the real scheduler (child process, SQLite), the
 * unmodified dcp-client 5.6.1 deploying jobs of trivial slices (`compute.for(1, n, x => { progress(1);
 * return x + 1; })`), and our supervisor in this process on a dcp-emu-evaluator. Its idle poll is
 * 10 minutes, so every job reaches it through the scheduler's `schedmsg::wake` push.
 *
 *   - exec → first result, slices/s (first → last result) for a warm-up job and the measured one
 *   - signed DCP envelopes per slice between our worker and the scheduler (both ways, acks included;
 *     every envelope the worker sends or receives is one the scheduler receives or sends)
 *
 * Run from the repository root:
 *   node --no-node-snapshot --conditions=source --import tsx bench/worker/e2e.bench.ts [slices=2000] [sandboxes=2] [statusBegin=task]
 *   or: npm run bench:worker:e2e -w @dcp-emu/worker
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, silentLogger } from '@dcp-emu/protocol/node';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  runClient,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';
import { discoverScheduler, Supervisor } from '../../apps/worker/src/supervisor';
import { freePort, startEvaluatorAt } from '../../apps/worker/test-support';

const slices = Number(process.argv[2] ?? 2000);
const sandboxes = Number(process.argv[3] ?? 2);
const statusBegin = (process.argv[4] ?? 'task') as 'slice' | 'task' | 'none';

interface BenchOut {
  start: number;
  accepted: number;
  first: number;
  last: number;
  slices: number;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-wbench-'));
  const home = peerHome('dcp-emu-wbench-client-');
  const procs: Proc[] = [];
  const evaluator = await startEvaluatorAt(await freePort());
  let supervisor: Supervisor | undefined;
  try {
    const scheduler = await startScheduler(dataDir);
    procs.push(scheduler);
    const found = await discoverScheduler(scheduler.url);
    supervisor = new Supervisor({
      identity: Identity.random(),
      services: found.services,
      schedulerOrigin: new URL(scheduler.url).origin,
      evaluator: { host: '127.0.0.1', port: evaluator.port },
      paymentAddress: Identity.random().address,
      workerId: 'e2ebenche2ebenche2eben',
      maxSandboxes: sandboxes,
      watchdogIntervalMs: 600_000,
      statusBegin,
      logger: silentLogger,
    });
    await supervisor.start();
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, '../../tests/e2e/scheduler/client-script.cjs'), 'utf8'),
    );
    // when our worker got its first task, started its first slice and had its first result accepted
    let marks: { task?: number; start?: number; progress?: number; sent?: number; result?: number } = {};
    // when the first result was handed to the DCP session (the rest is the scheduler's)
    const rs = supervisor.rs;
    const request = rs.request.bind(rs);
    rs.request = (operation, data, options) => {
      if (operation === 'result') marks.sent ??= Date.now();
      return request(operation, data, options);
    };
    supervisor.on('sliceProgress', () => {
      marks.progress ??= Date.now();
    });
    supervisor.on('fetch', (f) => {
      if (f.slices > 0) marks.task ??= Date.now();
    });
    supervisor.on('sliceStart', () => {
      marks.start ??= Date.now();
    });
    supervisor.on('result', () => {
      marks.result ??= Date.now();
    });
    const job = async (n: number) => {
      marks = {};
      const before = supervisor?.dcpStats();
      const client = runClient(
        home,
        script,
        { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5], SLICES: String(n) },
        ['bench'],
      );
      procs.push(client);
      const m = await client.waitFor(/^OUT (\{"bench".*\})$/m, 900_000);
      const b = (JSON.parse(m[1] as string) as { bench: BenchOut }).bench;
      const after = supervisor?.dcpStats();
      return { b, before, after, m: marks };
    };
    console.log(
      `our worker end to end: ${sandboxes} sandboxes, statusBegin ${statusBegin}, idle poll 600 s (wake-ups only)\n`,
    );
    for (const [label, n] of [
      ['warm-up job', 20],
      ['measured job', slices],
    ] as const) {
      const { b, before, after, m } = await job(n);
      const sent = (after?.envelopesSent ?? 0) - (before?.envelopesSent ?? 0);
      const received = (after?.envelopesReceived ?? 0) - (before?.envelopesReceived ?? 0);
      const seconds = (b.last - b.first) / 1000;
      console.log(`${label} (${n} slices):`);
      console.log(`  exec → accepted             ${(b.accepted - b.start).toFixed(0)} ms`);
      console.log(`  exec → first result         ${(b.first - b.start).toFixed(0)} ms`);
      console.log(
        `  accepted → first result     ${(b.first - b.accepted).toFixed(0)} ms (worker: task at +${(m.task ?? Number.NaN) - b.accepted}, slice started +${(m.start ?? Number.NaN) - b.accepted}, progress() +${(m.progress ?? Number.NaN) - b.accepted}, result sent +${(m.sent ?? Number.NaN) - b.accepted}, result accepted +${(m.result ?? Number.NaN) - b.accepted} ms)`,
      );
      console.log(
        `  throughput                  ${seconds > 0 ? ((n - 1) / seconds).toFixed(1) : '–'} slices/s`,
      );
      console.log(
        `  worker↔scheduler envelopes  ${((sent + received) / n).toFixed(2)} per slice (${(sent / n).toFixed(2)} from the worker, ${(received / n).toFixed(2)} from the scheduler)`,
      );
      const per = (op: string) => (((after?.requests[op] ?? 0) - (before?.requests[op] ?? 0)) / n).toFixed(3);
      console.log(
        `  messages per slice          requestTask ${per('requestTask')}, status ${per('status')}, result ${per('result')}`,
      );
      console.log('');
    }
  } finally {
    await supervisor?.stop(true);
    for (const p of procs.reverse()) await p.stop();
    await evaluator.stop();
    cleanup(dataDir, home);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
