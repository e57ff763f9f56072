import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDcc } from '@dcp-emu/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startBank,
  startDcpWorker,
  startEvaluator,
  startOurWorker,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import {
  balanceOf,
  clientHome,
  expectExactlyOnce,
  expectLedgerBalances,
  faucet,
  PER_SLICE,
  progressOf,
  schedulerAddress,
  sliceCount,
  startJob,
  startPaidStack,
  waitSettled,
} from '../load/harness';

/** The big job's size: 10,000 slices; DCP_EMU_DURABILITY_SLICES shrinks it for a local run. */
const BIG = sliceCount('DCP_EMU_DURABILITY_SLICES', 10_000);
/** A bound on a hang, not a speed target: 2 minutes plus 5 slices/s. */
const BIG_CEILING_MS = 120_000 + BIG * 200;

/** Waits (bounded) until the client has seen at least `n` distinct results. */
async function untilProgress(client: Proc, n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (progressOf(client) < n) {
    if (!client.running)
      throw new Error(`client exited at ${progressOf(client)} results:\n${client.out.slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`${n} results not reached in ${ms / 1000} s:\n${client.out.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface JobView {
  status: string;
  slices: { done: number; queued: number; leased: number };
}

/**
 * Faults: the scheduler killed with SIGKILL mid-job, a worker killed mid-slice; and a paid job of
 * 10,000 trivial slices (DCP_EMU_DURABILITY_SLICES to shrink it) through kill -9 of the scheduler, then
 * the bank, then the worker, each restarted: every result reaches the client exactly once and each slice
 * is paid exactly once.
 */
describe('every slice completes', () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0).reverse()) await p.stop('SIGKILL');
    cleanup(...dirs.splice(0));
  });

  it('kill -9 of the scheduler mid-job, restart: the job completes, no result lost or duplicated', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-sched-'));
    dirs.push(dataDir);
    const env = { DCP_EMU_LEASE_MS: '6000' };
    const first = await startScheduler(dataDir, env);
    procs.push(first);
    const evaluator = await startEvaluator();
    procs.push(evaluator);
    const worker = await startDcpWorker(first.url, evaluator.port, 2);
    procs.push(worker);
    dirs.push(worker.home);
    const home = peerHome('dcp-emu-client-');
    dirs.push(home);
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, 'client-script.cjs'), 'utf8'),
    );
    const n = 12;
    const client = runClient(
      home,
      script,
      {
        DCP_SCHEDULER_LOCATION: first.url,
        DCP_CLIENT_DIR: DCP_CLIENT[5],
        SLICES: String(n),
        SLICE_MS: '700',
      },
      ['slow'],
    );
    procs.push(client);
    await client.waitFor(/OUT \{"result":\d+\}[\s\S]*OUT \{"result":\d+\}/, 90_000);
    // right after a result event, possibly while the client's answer to it is unacked: the restarted
    // target makes the client retransmit it (ack journal) and closes only once the client is quiet
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startScheduler(dataDir, env, first.port);
    procs.push(second);

    await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 120_000);
    const out = client.outputs();
    const done = out.find((o) => 'done' in o) as { done: number[]; resultEvents: number[] } | undefined;
    expect(done?.done).toEqual(Array.from({ length: n }, (_, i) => (i + 1) ** 2));
    // each result event reached the client at most once
    expect(new Set(done?.resultEvents).size).toBe(done?.resultEvents.length);
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const job = await getJson<JobView>(`${second.url}api/jobs/${id}`);
    expect(job.status).toBe('finished');
    expect(job.slices.done).toBe(n);
    const events = await getJson<{ events: { name: string }[] }>(`${second.url}api/jobs/${id}/events`);
    expect(events.events.filter((e) => e.name === 'stop')).toHaveLength(1);
  }, 240_000);

  it('a worker killed mid-slice: its slices are re-queued and completed by another worker', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-sched-'));
    dirs.push(dataDir);
    const scheduler = await startScheduler(dataDir, { DCP_EMU_LEASE_MS: '6000' });
    procs.push(scheduler);
    const evaluator = await startEvaluator();
    procs.push(evaluator);
    const doomed = await startDcpWorker(scheduler.url, evaluator.port, 1);
    procs.push(doomed);
    dirs.push(doomed.home);
    const home = peerHome('dcp-emu-client-');
    dirs.push(home);
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, 'client-script.cjs'), 'utf8'),
    );
    const client = runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5], SLICES: '4', SLICE_MS: '3000' },
      ['slow'],
    );
    procs.push(client);
    await doomed.waitFor(/Slice Started/, 90_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const id = (await client.waitFor(/OUT \{"accepted":"([^"]+)"/, 10_000))[1] as string;
    const rescuer = await startDcpWorker(scheduler.url, evaluator.port, 2);
    procs.push(rescuer);
    dirs.push(rescuer.home);

    await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 120_000);
    expect(client.outputs().find((o) => 'done' in o)?.done).toEqual([1, 4, 9, 16]);
    const slices = await getJson<{ slices: { attempts: number; status: string }[] }>(
      `${scheduler.url}api/jobs/${id}/slices`,
    );
    expect(slices.slices.every((s) => s.status === 'done')).toBe(true);
    expect(slices.slices.some((s) => s.attempts >= 2)).toBe(true);
  }, 240_000);

  it(
    `kill -9 of the scheduler, the bank and the worker during a ${BIG}-slice job: every result exactly once, each slice paid once`,
    async () => {
      const dataDir = tempDir('dcp-emu-durable-');
      dirs.push(dataDir);
      // a short lease: the killed worker's slices come back soon
      const stack = await startPaidStack(dataDir, `file:${join(dataDir, 'dcp-emu.sqlite')}`, {
        DCP_EMU_LEASE_MS: '6000',
      });
      let { scheduler, bank } = stack;
      procs.push(scheduler, bank);
      const workerDir = tempDir('dcp-emu-durable-worker-');
      dirs.push(workerDir);
      let worker = await startOurWorker(scheduler.url, workerDir, { cores: 2 });
      procs.push(worker);

      const { home, script, payer } = clientHome();
      dirs.push(home);
      await faucet(bank.url, payer, formatDcc(BigInt(BIG) * PER_SLICE * 2n + 1_000_000_000n));
      const payerBefore = await balanceOf(bank.url, payer);
      const commissionAccount = (await schedulerAddress(scheduler.url)).toLowerCase();
      const commissionBefore = new Map([[commissionAccount, await balanceOf(bank.url, commissionAccount)]]);
      const client = startJob(home, script, scheduler.url, BIG);
      procs.push(client);
      const step = Math.max(1, Math.floor(BIG / 5));

      await untilProgress(client, step, BIG_CEILING_MS);
      scheduler.child.kill('SIGKILL');
      await scheduler.exited;
      scheduler = await startScheduler(dataDir, stack.env, stack.schedulerPort);
      procs.push(scheduler);

      await untilProgress(client, 2 * step, BIG_CEILING_MS);
      bank.child.kill('SIGKILL');
      await bank.exited;
      bank = await startBank(dataDir, stack.env, stack.bankPort);
      procs.push(bank);

      await untilProgress(client, 3 * step, BIG_CEILING_MS);
      await worker.stop('SIGKILL'); // the worker and its evaluator, mid-slice
      worker = await startOurWorker(scheduler.url, workerDir, { cores: 2 });
      procs.push(worker);

      const done = await expectExactlyOnce(client, BIG, BIG_CEILING_MS);
      const job = await getJson<JobView>(`${scheduler.url}api/jobs/${done.job}`);
      expect(job.status).toBe('finished');
      expect(job.slices.done).toBe(BIG);
      const slices = await waitSettled(scheduler.url, bank.url, done.job, payer, 300_000);
      expect(slices).toHaveLength(BIG);
      expect(slices.every((s) => s.status === 'done')).toBe(true);
      await expectLedgerBalances({
        bankUrl: bank.url,
        job: done.job,
        slices,
        payer,
        payerBefore,
        commissionBefore,
      });
    },
    BIG_CEILING_MS * 2 + 600_000,
  );
});
