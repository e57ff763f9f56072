import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startEvaluator,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';

/** What `dcp-emu run` and `dcp-emu exec` preload into the programs they start. */
const LOGIN_PRELOAD = join(ROOT, 'packages/cli/preload/dcp-login.cjs');
const SIMPLE_WORKER = join(DCP_CLIENT[5], 'examples/nodejs/simple-worker.js');

/** Run a client-script mode to its `done`/`failed`/`fatal` line; the process is gone afterwards. */
async function runMode(
  home: string,
  script: string,
  mode: string,
  env: Record<string, string>,
): Promise<Proc> {
  const client = runClient(home, script, { DCP_CLIENT_DIR: DCP_CLIENT[5], ...env }, [mode]);
  try {
    await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, 150_000);
  } finally {
    await client.stop('SIGKILL');
  }
  return client;
}

const find = (client: Proc, key: string) => client.outputs().find((o) => key in o)?.[key];

/**
 * The Compute API around a deployed job, from a second process, and dcp-client's own worker
 * (dcp/worker) — unmodified dcp-client 5.6.1 programs.
 */
describe('Compute API: reconnect from a second process, dcp/worker programs', () => {
  const dataDir = tempDir('dcp-emu-sched-');
  let scheduler: Proc & { url: string; port: number };
  let home: string;
  let stranger: string;
  let script: string;
  let jobId: string;

  beforeAll(async () => {
    // debug: the jnu requests are logged
    scheduler = await startScheduler(dataDir, { DCP_EMU_LOG_LEVEL: 'debug' });
    home = peerHome('dcp-emu-client-');
    stranger = peerHome('dcp-emu-client-');
    const source = readFileSync(join(__dirname, 'client-script.cjs'), 'utf8');
    script = writePeerFile(home, 'client.cjs', source);
    writePeerFile(stranger, 'client.cjs', source);
    // a finished job, computed by its own client (localExec: no worker needed)
    const first = await runMode(home, script, 'localexec', {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      NODE_OPTIONS: `--require "${LOGIN_PRELOAD}"`,
    });
    expect(find(first, 'done'), first.out.slice(-2000)).toEqual([10, 20, 30, 40]);
    jobId = find(first, 'accepted') as string;
  }, 240_000);
  afterAll(async () => {
    await scheduler?.stop();
    cleanup(dataDir, home, stranger);
  });

  it('getJobInfo and results.fetch work; resume does not, inside dcp-client itself', async () => {
    const second = await runMode(home, script, 'reconnect', {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      JOB_ID: jobId,
    });
    // compute.getJobInfo(id): a row of the scheduler's jnu `jobs` table
    expect(find(second, 'info'), second.out.slice(-2000)).toMatchObject({
      opaqueId: jobId,
      status: 'finished',
      totalSlices: 4,
      completedSlices: 4,
    });
    // job.results.fetch() on a handle given the job's id: fetchResult of the owner identity
    expect(find(second, 'fetched')).toEqual([10, 20, 30, 40]);
    // compute.resume / job.resume use a `schedulerConnection` dcp-client 5.6.1 never creates: they throw
    // before sending anything (README: job-utility fetchResult, or the two calls above)
    expect(find(second, 'resumeError')).toMatch(/reading 'request'/);
    expect(scheduler.out).toMatch(/"method":"select","variant":"select","table":"jobs"/);

    // another identity learns nothing of it
    const other = await runMode(stranger, join(stranger, 'client.cjs'), 'reconnect', {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      JOB_ID: jobId,
    });
    expect(find(other, 'info')).toEqual({ error: 'Unable to find job' });
    expect(find(other, 'fetched')).toBeUndefined();
  }, 240_000);

  it("dcp-client's examples/nodejs/simple-worker.js, unmodified, as `dcp-emu run` starts it, computes jobs", async () => {
    const evaluator = await startEvaluator();
    const worker = runClient(home, SIMPLE_WORKER, {
      DCP_SCHEDULER_LOCATION: scheduler.url,
      NODE_OPTIONS: `--require "${LOGIN_PRELOAD}"`,
      // the stack's evaluator, as `dcp-emu run` points dcp-client at it (packages/cli/src/dcp-login.ts)
      DCP_CONFIG_EVALUATOR: `{ location: new URL("http://127.0.0.1:${evaluator.port}/") }`,
    });
    try {
      await worker.waitFor(/Worker ready to fetch tasks/, 120_000);
      const client = await runMode(home, script, 'array', { DCP_SCHEDULER_LOCATION: scheduler.url });
      expect(find(client, 'done'), `${client.out.slice(-1500)}\n${worker.out.slice(-1500)}`).toEqual([
        2, 4, 6, 8,
      ]);
      await worker.waitFor(/Worker has sent a result back to the scheduler/, 30_000);
      // it asked the scheduler database for its configuration and reported itself (jnu)
      expect(scheduler.out).toMatch(/"table":"w\$workerConfigValue"/);
      expect(scheduler.out).toMatch(/"variant":"changeOrAdd","table":"w\$workerRunInfo"/);
    } finally {
      await worker.stop('SIGKILL');
      await evaluator.stop();
    }
  }, 300_000);
});
