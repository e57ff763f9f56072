import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';

/** What `dcp-emu run` and `dcp-emu exec` preload into the programs they start. */
const LOGIN_PRELOAD = join(ROOT, 'packages/cli/preload/dcp-login.cjs');

/**
 * A plain `await job.localExec()` of the unmodified dcp-client (no `identity.login()` in the program):
 * its own in-process worker computes the job; no other worker is needed.
 */
describe('plain job.localExec() with unmodified dcp-client', () => {
  const dataDir = tempDir('dcp-emu-sched-');
  let scheduler: Proc & { url: string; port: number };
  let home: string;
  let script: string;

  beforeAll(async () => {
    scheduler = await startScheduler(dataDir);
    home = peerHome('dcp-emu-client-');
    script = writePeerFile(home, 'client.cjs', readFileSync(join(__dirname, 'client-script.cjs'), 'utf8'));
  }, 120_000);
  afterAll(async () => {
    await scheduler?.stop();
    cleanup(dataDir, home);
  });

  async function localExec(version: 4 | 5, env: Record<string, string> = {}): Promise<Proc> {
    const client = runClient(
      home,
      script,
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[version], ...env },
      ['localexec'],
    );
    // 'close': the process has exited and its output is all read
    const closed = new Promise((res) => client.child.once('close', res));
    try {
      await Promise.race([
        client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 120_000).catch(() => closed),
        closed,
      ]);
    } finally {
      await client.stop('SIGKILL');
    }
    return client;
  }

  async function expectComputed(client: Proc, version: 4 | 5): Promise<void> {
    const out = client.outputs();
    const done = out.find((o) => 'done' in o) as { done: number[]; resultEvents: number[] } | undefined;
    expect(done?.done, client.out.slice(-3000)).toEqual([10, 20, 30, 40]);
    expect([...(done?.resultEvents ?? [])].sort()).toEqual([1, 2, 3, 4]);
    if (version === 4) return; // 4.x job ids are the client's, not the scheduler's
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const job = await getJson<{ status: string; slices: { done: number } }>(`${scheduler.url}api/jobs/${id}`);
    expect(job).toMatchObject({ status: 'finished', slices: { done: 4 } });
  }

  it('5.6.1 as `dcp-emu run` starts it (login preload): results come back, computed by the client', async () => {
    await expectComputed(await localExec(5, { NODE_OPTIONS: `--require "${LOGIN_PRELOAD}"` }), 5);
  }, 180_000);

  it('4.4.29 needs no session: plain node computes it too', async () => {
    await expectComputed(await localExec(4), 4);
  }, 180_000);

  it('5.6.1 under plain node dies in its own supervisor, whatever the scheduler serves (why the preload exists)', async () => {
    const client = await localExec(5);
    // it dies of an uncaught "cannot get identity with no session" thrown by
    // Supervisor.constructReturnAllSlicesMessage (its 1.8 MB source-line dump may cut the message off)
    expect(await client.exited).toBe(1);
    const out = client.outputs();
    expect(out.some((o) => 'done' in o || 'failed' in o)).toBe(false);
    const id = out.find((o) => 'accepted' in o)?.accepted as string;
    const job = await getJson<{ slices: { done: number } }>(`${scheduler.url}api/jobs/${id}`);
    expect(job.slices.done).toBe(0);
  }, 180_000);
});
