import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startOurWorker,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

const BIN = join(ROOT, 'node_modules/dcp-util/bin');

/**
 * dcp-util 2.3.14's bins (with their own dcp-client 4.4.x), unmodified, against our scheduler and
 * worker: dcping, job-utility, publish, mkad (cg-utility: groups.e2e.ts; bank-utility: the CLI e2e).
 */
describe('dcp-util bins against the scheduler', () => {
  let scheduler: Proc & { url: string };
  let worker: Proc;
  let dataDir: string;
  let workerDir: string;
  let home: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sched-dcp-util-'));
    workerDir = mkdtempSync(join(tmpdir(), 'wdata-'));
    scheduler = await startScheduler(dataDir);
    worker = await startOurWorker(scheduler.url, workerDir);
    home = peerHome('dcp-emu-dcp-util-');
  }, 120_000);

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await scheduler?.stop();
    cleanup(dataDir, workerDir, home);
  });

  /** Run a dcp-util bin as the peer user; resolves with its exit code and output. */
  async function util(bin: string, args: string[]): Promise<{ code: unknown; out: string }> {
    const p = runClient(
      home,
      join(BIN, bin),
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1' },
      args,
    );
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 90_000))]);
    return { code, out: p.out };
  }

  it('dcping deploys a job; job-utility lists, counts, reports and fetches its results', async () => {
    const ping = await util('dcping', ['-c', '1', '--no-discrete']);
    expect(ping.code, ping.out).toBe(0);
    expect(ping.out).toMatch(/1 jobs deployed, 1 jobs completed/);

    const listed = await util('job-utility', ['listJobs', '--json']);
    expect(listed.code, listed.out).toBe(0);
    const jobs = JSON.parse(listed.out.slice(listed.out.indexOf('['))) as {
      job?: string;
      address?: string;
    }[];
    const id = (jobs[0]?.job ?? jobs[0]?.address) as string;
    expect(id).toBeTruthy();

    const count = await util('job-utility', ['countSlices', id, '--json']);
    expect(JSON.parse(count.out.slice(count.out.indexOf('{')))).toMatchObject({ total: 3, done: 3 });
    const report = await util('job-utility', ['fetchJobReport', id, '--json']);
    expect(report.out).toMatch(/"status": ?"finished"/);
    const results = await util('job-utility', ['fetchResult', id, '1', '3', '--json']);
    const values = JSON.parse(results.out.slice(results.out.indexOf('['))) as { slice: number }[];
    expect(values.map((v) => v.slice).sort()).toEqual([1, 2, 3]);
  }, 180_000);

  it('publish stores a package and lists it; mkad creates and shows a keystore', async () => {
    writePeerFile(home, 'square.js', 'exports.square = (x) => x * x;\n');
    const desc = writePeerFile(
      home,
      'package.dcp',
      JSON.stringify({ name: 'dcp-emu-square', version: '1.2.3', files: { 'square.js': 'square.js' } }),
    );
    const published = await util('publish', ['package', desc]);
    expect(published.code, published.out).toBe(0);
    expect(published.out).toContain('published package: dcp-emu-square@1.2.3');
    const listed = await util('publish', ['listModules', 'square']);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(/dcp-emu-square 1\.2\.3/);

    const made = await util('mkad', ['new', 'e2e', '--passphrase', '', '-q']);
    expect(made.code, made.out).toBe(0);
    const shown = await util('mkad', ['show', join(home, '.dcp', 'e2e.keystore')]);
    expect(shown.out).toMatch(/0x[0-9a-fA-F]{40}/);
  }, 180_000);
});
