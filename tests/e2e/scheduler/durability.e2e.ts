import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

interface JobView {
  status: string;
  slices: { done: number; queued: number; leased: number };
}

/** Faults: the scheduler killed with SIGKILL mid-job, a worker killed mid-slice. */
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
});
