import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Identity, writeClientKeystores } from '@dcp-emu/protocol/node';
import {
  cleanup,
  DCP_CLIENT,
  freePortBase,
  runClient,
  tempDir,
  unprivileged,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');

const jobScript = `
const { init } = require(${JSON.stringify(DCP_CLIENT[5])});
init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for(1, 40, (x) => { progress(1); const t = Date.now(); while (Date.now() - t < 150); return x; });
  job.public.name = 'metrics e2e';
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  const results = await job.exec(compute.marketRate);
  console.log('RESULTS ' + Array.from(results).length);
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

/** One sample of a Prometheus text exposition (`name{labels} value`), 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

function chownTree(path: string): void {
  const ids = unprivileged();
  if (!ids) return;
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f));
}

/** `/metrics` of the scheduler and the bank (loopback stack: open) while a paid job runs. */
describe('/metrics on the scheduler and the bank', () => {
  const dataDir = tempDir('dcp-emu-metrics-');
  let up: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let base = 0;
  let home = '';
  const payer = Identity.random();

  beforeAll(async () => {
    base = await freePortBase();
    up = spawn(
      process.execPath,
      [
        CLI,
        'up',
        '--no-build',
        '--no-portal',
        '--workers',
        '2',
        '--data-dir',
        dataDir,
        '--port-base',
        String(base),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    up.stderr?.on('data', (d) => {
      err += d;
    });
    exited = new Promise((res) => up?.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 170_000);
      up?.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('run a program:')) {
          clearTimeout(timer);
          res();
        }
      });
      exited?.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${out}\n${err}`)));
    });
    home = tempDir('dcp-emu-metrics-client-');
    writeClientKeystores(join(home, '.dcp'), { identity: payer, account: payer });
    chownTree(home);
    const mint = await fetch(`http://127.0.0.1:${base + 1}/api/faucet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: payer.address, amount: '100' }),
    });
    expect(mint.status).toBe(201);
  }, 200_000);

  afterAll(async () => {
    up?.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') up?.kill('SIGKILL');
    cleanup(dataDir, home);
    expect(code).toBe(0);
  }, 60_000);

  it('counters move while a paid dcp-client job runs: slices, settled payments, captures, DCP requests', async () => {
    const scrape = async (service: 'scheduler' | 'bank') => {
      const res = await fetch(`http://127.0.0.1:${service === 'scheduler' ? base : base + 1}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
      return res.text();
    };
    const before = { s: await scrape('scheduler'), b: await scrape('bank') };
    expect(before.s).toContain('# TYPE dcp_scheduler_journal_commit_seconds histogram');
    expect(before.s).toContain('# TYPE dcp_scheduler_lease_expiries_total counter');
    expect(sample(before.s, 'dcp_scheduler_slices_completed_total')).toBe(0);

    const client = runClient(home, writePeerFile(home, 'metrics-job.js', jobScript), {
      DCP_SCHEDULER_LOCATION: `http://127.0.0.1:${base}/`,
      DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    });
    await client.waitFor(/ACCEPTED (\S+)/, 120_000);
    // during the job: it is running and some of its slices are done while others are not yet
    let during = '';
    for (let i = 0; i < 600; i++) {
      during = await scrape('scheduler');
      if (sample(during, 'dcp_scheduler_slices_completed_total') > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sample(during, 'dcp_scheduler_jobs', 'status="running"')).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'dcp_scheduler_slices_completed_total')).toBeGreaterThan(0);

    await client.waitFor(/RESULTS 40/, 180_000);
    expect(await client.exited).toBe(0);
    // payments settle in the escrow's rounds after the results: wait (bounded) for all 40
    let after = { s: '', b: '' };
    for (let i = 0; i < 300; i++) {
      after = { s: await scrape('scheduler'), b: await scrape('bank') };
      if (sample(after.s, 'dcp_scheduler_payments_settled_total') >= 40) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sample(after.s, 'dcp_scheduler_slices_completed_total')).toBe(40);
    expect(sample(after.s, 'dcp_scheduler_payments_settled_total')).toBe(40);
    expect(sample(after.s, 'dcp_scheduler_jobs', 'status="finished"')).toBe(1);
    expect(sample(after.s, 'dcp_scheduler_journal_commit_seconds_count')).toBeGreaterThan(
      sample(before.s, 'dcp_scheduler_journal_commit_seconds_count'),
    );
    expect(sample(after.b, 'dcp_bank_captures_settled_total')).toBeGreaterThan(
      sample(before.b, 'dcp_bank_captures_settled_total'),
    );
    expect(sample(after.b, 'dcp_bank_dcp_requests_total', 'service="bankEscrow"')).toBeGreaterThan(
      sample(before.b, 'dcp_bank_dcp_requests_total', 'service="bankEscrow"'),
    );
  }, 400_000);
});
