import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  freePort,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startBank,
  startOurWorker,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * "Why is my job idle?" against real parts: the scheduler and the bank (their own processes, escrow
 * on), unmodified dcp-client 5.6.1 jobs, our workers. `GET /api/jobs/:id/explain` (and
 * `dcp-emu explain`) names the reason for each: no workers, wrong compute group, unmet requirement,
 * offer below the worker's minimum wage, no funds.
 */

const ADMIN_TOKEN = 'explain-e2e-admin-token';

// one dcp-client program, the kind of job from argv[2]; prints `JOB <id>` once deployed
const JOB_SCRIPT = `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const mode = process.argv[2];
  let job;
  if (mode === 'wage') {
    job = compute.for(Array.from({ length: 30 }, (_, i) => i + 1), (x) => {
      let s = 0;
      for (let i = 0; i < 4e7; i++) s += i % 7;
      progress(1);
      return x + (s % 1);
    });
    job.computeGroups = [{ joinKey: 'wage', joinSecret: 'w4ge' }];
  } else if (mode === 'nofunds') {
    job = compute.for([1, 2, 3, 4], (x) => { progress(1); return x * 2; });
  } else {
    job = compute.for([1, 2, 3], (x) => { progress(1); return x; });
    if (mode === 'gpu') job.requirements = { environment: { webgpu: true } };
    if (mode === 'lab') job.computeGroups = [{ joinKey: 'lab', joinSecret: 'l4b' }];
  }
  job.public.name = 'explain ' + mode;
  job.on('accepted', () => console.log('JOB ' + job.id));
  job.on('nofunds', () => console.log('NOFUNDS'));
  await job.exec();
  console.log('DONE');
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`;

interface Explain {
  job: { id: string; status: string; fundsShort: boolean };
  blocked: { reason: string; message: string } | null;
  workers: { worker: string; connected: boolean; groups: string[]; reason: string; message: string }[];
  summary: string;
}

describe('explain: why is my job idle? (scheduler + bank, dcp-client 5.6.1, our workers)', () => {
  let bank: Proc & { url: string };
  let scheduler: Proc & { url: string };
  let publicWorker: Proc;
  let wageWorker: Proc;
  let dataDir: string;
  const clients: Proc[] = [];
  const homes: string[] = [];
  const jobs: Record<string, string> = {};

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(new URL(path, scheduler.url), {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const explain = (job: string) => api<Explain>(`api/jobs/${job}/explain`);
  /** Poll the explanation until `ok` holds (workers ask every 0.5 s; a busy machine is slower). */
  const explainUntil = async (job: string, ok: (e: Explain) => boolean, what: string) => {
    const end = Date.now() + 120_000;
    let last: Explain | undefined;
    while (Date.now() < end) {
      last = await explain(job);
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`explain never showed ${what}:\n${JSON.stringify(last, null, 2)}`);
  };
  // the two workers, told apart by the groups they proved: the wage worker is also in 'wage'
  const workerOf = (e: Explain, which: 'public' | 'wage') =>
    e.workers.find((w) => w.connected && w.groups.includes('wage') === (which === 'wage'));
  const reasonOf = (e: Explain, which: 'public' | 'wage') => workerOf(e, which)?.reason;

  /** A client HOME whose payment account gets `fund` DCC from the faucet, running one job. */
  const deploy = async (mode: string, fund: string): Promise<{ id: string; client: Proc }> => {
    const home = peerHome(`dcp-emu-explain-${mode}-`);
    homes.push(home);
    const keystore = JSON.parse(readFileSync(join(home, '.dcp/default.keystore'), 'utf8')) as {
      address: string;
    };
    const payer = keystore.address.startsWith('0x') ? keystore.address : `0x${keystore.address}`;
    const res = await fetch(new URL('api/faucet', bank.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: payer, amount: fund }),
    });
    expect(res.status).toBe(201);
    const client = runClient(
      home,
      writePeerFile(home, 'job.cjs', JOB_SCRIPT),
      { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_BUNDLE_AUTOUPDATE: 'false' },
      [mode],
    );
    clients.push(client);
    const id = (await client.waitFor(/JOB (\S+)/, 120_000))[1] as string;
    jobs[mode] = id;
    return { id, client };
  };

  beforeAll(async () => {
    dataDir = tempDir('dcp-emu-explain-');
    const schedulerPort = await freePort();
    bank = await startBank(join(dataDir, 'bank'), {
      DCP_EMU_SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}/`,
    });
    scheduler = await startScheduler(
      join(dataDir, 'scheduler'),
      { DCP_EMU_BANK_URL: bank.url, DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN, DCP_EMU_SETTLE_MS: '200' },
      schedulerPort,
    );
    for (const [joinKey, joinSecret] of [
      ['lab', 'l4b'],
      ['wage', 'w4ge'],
    ])
      await api('api/compute-groups', {
        method: 'POST',
        body: JSON.stringify({ joinKey, joinSecret, name: joinKey, commissionRate: '0' }),
      });
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) await c.stop('SIGKILL');
    await publicWorker?.stop();
    await wageWorker?.stop();
    await scheduler?.stop();
    await bank?.stop();
    cleanup(dataDir, ...homes);
  });

  it('no workers at all', async () => {
    const { id } = await deploy('gpu', '10');
    const e = await explain(id);
    expect(e.job.status).toBe('running');
    expect(e.workers).toEqual([]);
    expect(e.blocked?.reason).toBe('no-workers');
    expect(e.summary).toMatch(/no workers are connected/);
  }, 180_000);

  it('unmet requirement, for every worker; the CLI prints the same', async () => {
    publicWorker = await startOurWorker(scheduler.url, join(dataDir, 'w-public'), { cores: 1 });
    wageWorker = await startOurWorker(scheduler.url, join(dataDir, 'w-wage'), {
      cores: 1,
      groups: ['wage,w4ge'],
      args: ['--minimumWage', '1000000'],
    });
    const e = await explainUntil(
      jobs.gpu as string,
      (x) => x.workers.filter((w) => w.connected && w.reason === 'requirements').length === 2,
      'two workers without webgpu',
    );
    expect(e.blocked).toBeNull();
    expect(e.workers.find((w) => w.reason === 'requirements')?.message).toMatch(/requires/);

    // dcp-emu explain, against this scheduler as a stack's
    const stackDir = join(dataDir, 'stack');
    spawnSync('mkdir', ['-p', stackDir]);
    writeFileSync(
      join(stackDir, 'stack.json'),
      JSON.stringify({
        pid: process.pid,
        startedAt: new Date().toISOString(),
        dataDir: stackDir,
        resourceDir: stackDir,
        homeDir: stackDir,
        urls: { scheduler: scheduler.url, bank: bank.url },
      }),
    );
    writeFileSync(join(stackDir, 'admin.token'), `${ADMIN_TOKEN}\n`);
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [join(ROOT, 'packages/cli/bin/dcp-emu.js'), ...args, '--data-dir', stackDir],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
    const text = cli('explain', jobs.gpu as string);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`job ${jobs.gpu}: running`);
    expect(text.stdout).toMatch(/\[requirements\] the job requires/);
    const json = cli('explain', jobs.gpu as string, '--json');
    expect((JSON.parse(json.stdout) as Explain).job.id).toBe(jobs.gpu);
    const unknown = cli('explain', 'no-such-job');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/ENOENT: no job no-such-job/);
  }, 240_000);

  it('wrong compute group', async () => {
    const { id } = await deploy('lab', '10');
    const e = await explainUntil(
      id,
      (x) => reasonOf(x, 'public') === 'not-in-group' && reasonOf(x, 'wage') === 'not-in-group',
      'both workers outside group lab',
    );
    expect(workerOf(e, 'public')?.message).toMatch(/compute group \(lab\); the worker is in public/);
  }, 180_000);

  it('offer below the minimum wage (once the job is measured); the other worker is not in its group', async () => {
    const { id } = await deploy('wage', '10');
    // the wage worker computes the unmeasured job's first slice; measured, the offer is far below its wage
    const e = await explainUntil(
      id,
      (x) => reasonOf(x, 'wage') === 'below-minimum-wage',
      'the wage worker refusing a measured job',
    );
    expect(reasonOf(e, 'public')).toBe('not-in-group');
    expect(e.workers.find((w) => w.reason === 'below-minimum-wage')?.message).toMatch(
      /DCC per CPU-hour, below the worker's minimum wage of 1000000/,
    );
  }, 180_000);

  it('no funds (ENOFUNDS): the job waits, and no worker gets it', async () => {
    // enough for the deposit slice held at submit, not for the 3 uploaded after it
    const { id, client } = await deploy('nofunds', '0.00015');
    // (a worker that computed the funded slice is named computing until its next request)
    const e = await explainUntil(
      id,
      (x) =>
        x.blocked?.reason === 'no-funds' &&
        reasonOf(x, 'public') === 'no-funds' &&
        reasonOf(x, 'wage') === 'no-funds',
      'no funds',
    );
    expect(e.job.fundsShort).toBe(true);
    expect(e.summary).toMatch(/ENOFUNDS/);
    expect(reasonOf(e, 'wage')).toBe('no-funds');
    expect(client.running).toBe(true);
  }, 180_000);
});
