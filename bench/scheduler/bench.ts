/**
 * Scheduler figures with the real peers: the unmodified dcp-client 5.6.1 deploys a job of trivial
 * slices, the unmodified dcp-worker 3.3.19 computes it on our evaluator. Prints deploy → first
 * result latency and slices/s; asserts nothing.
 *   node --conditions=source --import tsx bench/scheduler/bench.ts [slices] [workers] [cores]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

async function main(): Promise<void> {
  const slices = Number(process.argv[2] ?? 2000);
  const workers = Number(process.argv[3] ?? 1);
  const cores = Number(process.argv[4] ?? 4);
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bench-'));
  const procs: Proc[] = [];
  const homes: string[] = [dataDir];
  try {
    const scheduler = await startScheduler(dataDir);
    procs.push(scheduler);
    const evaluator = await startEvaluator();
    procs.push(evaluator);
    for (let i = 0; i < workers; i++) {
      const w = await startDcpWorker(scheduler.url, evaluator.port, cores);
      procs.push(w);
      homes.push(w.home);
    }
    const home = peerHome('dcp-emu-bench-client-');
    homes.push(home);
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, '../../tests/e2e/scheduler/client-script.cjs'), 'utf8'),
    );
    const client = runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5], SLICES: String(slices) },
      ['bench'],
    );
    procs.push(client);
    const m = await client.waitFor(/^OUT (\{"bench".*\})$/m, 600_000);
    const b = (
      JSON.parse(m[1] as string) as {
        bench: { start: number; accepted: number; first: number; last: number; slices: number };
      }
    ).bench;
    const seconds = (b.last - b.first) / 1000;
    console.log(
      `scheduler bench: ${b.slices} trivial slices, ${workers} dcp-worker(s) × ${cores} cores, our evaluator`,
    );
    console.log(`  exec → accepted:          ${(b.accepted - b.start).toFixed(0)} ms`);
    console.log(`  exec → first result:      ${(b.first - b.start).toFixed(0)} ms`);
    console.log(`  first → last result:      ${(seconds * 1000).toFixed(0)} ms`);
    console.log(
      `  throughput:               ${(seconds > 0 ? (b.slices - 1) / seconds : 0).toFixed(1)} slices/s`,
    );
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGKILL');
    cleanup(...homes);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
