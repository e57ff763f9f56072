import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

/** `job.localExec()` of the unmodified dcp-client 5.6.1: its own in-process worker computes the job. */
describe('localExec with unmodified dcp-client 5.6.1', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-sched-'));
  let scheduler: Proc & { url: string; port: number };
  let home: string;

  beforeAll(async () => {
    scheduler = await startScheduler(dataDir);
    home = peerHome('dcp-emu-client-');
  }, 120_000);
  afterAll(async () => {
    await scheduler?.stop();
    cleanup(dataDir, home);
  });

  it('results come back, computed by the client itself; no other worker is needed', async () => {
    const script = writePeerFile(
      home,
      'client.cjs',
      readFileSync(join(__dirname, 'client-script.cjs'), 'utf8'),
    );
    const client = runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] },
      ['localexec'],
    );
    try {
      await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 120_000);
    } finally {
      await client.stop('SIGKILL');
    }
    const out = client.outputs();
    const done = out.find((o) => 'done' in o) as { done: number[]; resultEvents: number[] } | undefined;
    expect(done?.done, client.out.slice(-3000)).toEqual([10, 20, 30, 40]);
    expect([...(done?.resultEvents ?? [])].sort()).toEqual([1, 2, 3, 4]);
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const job = await getJson<{ status: string; slices: { done: number } }>(`${scheduler.url}api/jobs/${id}`);
    expect(job).toMatchObject({ status: 'finished', slices: { done: 4 } });
  }, 180_000);
});
