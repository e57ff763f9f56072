import { chownSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule, loadBankConfig } from '@dcp-emu/bank';
import { type RunningService, startService } from '@dcp-emu/nest-kit';
import { dcc, formatDcc, writeClientKeystores } from '@dcp-emu/protocol/node';
import { freePort } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  getJson,
  type Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  unprivileged,
} from '../scheduler/harness';

/**
 * Acceptance of the bank issue: an unmodified dcp-client 5.6.1 job pays. The scheduler (its own
 * process) escrows through the bank's DCP escrow service, the unmodified dcp-worker 3.3.19 computes on
 * our evaluator and is paid per result to its payment address, the commission goes to the scheduler,
 * the rest comes back at the end; cancel refunds; an empty account gets ENOFUNDS.
 */

const CLIENT_SCRIPT = join(__dirname, 'escrow-client.cjs');
const PER_SLICE = dcc('0.0001'); // the market rate; the client offers market value
const COMMISSION = dcc('0.000005'); // 5 % of it

interface Account {
  address: string;
  balance: string;
  held: string;
  openHolds: unknown[];
}

function chownTree(path: string): void {
  const ids = unprivileged();
  if (!ids) return;
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f));
}

describe('bank ↔ scheduler: unmodified dcp-client jobs pay through escrow', () => {
  let bank: RunningService;
  let bankConfig: ReturnType<typeof loadBankConfig>;
  let scheduler: Proc & { url: string };
  let evaluator: Proc & { port: number };
  let worker: Proc & { home: string };
  let workerPays: string;
  let schedulerAddress: string;
  const dirs: string[] = [];

  const bankUrl = () => bank.listening.url;
  const account = (address: string) => getJson<Account>(new URL(`api/accounts/${address}`, bankUrl()).href);
  const balanceOf = async (address: string) => {
    const res = await fetch(new URL(`api/accounts/${address}`, bankUrl()));
    return res.status === 404 ? 0n : dcc(((await res.json()) as Account).balance);
  };
  const faucet = async (address: string, amount: string) => {
    const res = await fetch(new URL('api/faucet', bankUrl()), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address, amount }),
    });
    expect(res.status).toBe(201);
  };
  /** A client HOME with fresh keystores; returns the payment account. */
  const clientHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'dcp-emu-escrow-client-'));
    dirs.push(home);
    const { account: payer } = writeClientKeystores(join(home, '.dcp'));
    chownTree(home);
    return { home, payer: payer.address };
  };
  const start = (home: string, mode: string, env: Record<string, string> = {}) =>
    runClient(
      home,
      CLIENT_SCRIPT,
      {
        DCP_SCHEDULER_LOCATION: scheduler.url,
        DCP_CLIENT_DIR: DCP_CLIENT[5],
        DCP_BUNDLE_AUTOUPDATE: 'false',
        ...env,
      },
      [mode],
    );
  const run = async (home: string, mode: string) => {
    const proc = start(home, mode);
    const code = await Promise.race([
      proc.exited,
      new Promise((r) => setTimeout(() => r('timeout'), 120_000)),
    ]);
    const output = proc.out;
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('OUT '))
      .map((l) => JSON.parse(l.slice(4)) as Record<string, unknown>);
    return { code, lines, output, last: lines.at(-1) ?? {} };
  };
  /** Wait until the payer has no open hold left (the job's escrow settled and released). */
  const settled = async (address: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const a = await account(address);
      if (a.openHolds.length === 0 && dcc(a.held) === 0n) return a;
      if (Date.now() > deadline) throw new Error(`escrow of ${address} not released: ${JSON.stringify(a)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    const bankDir = mkdtempSync(join(tmpdir(), 'dcp-emu-escrow-bank-'));
    const schedDir = mkdtempSync(join(tmpdir(), 'dcp-emu-escrow-sched-'));
    dirs.push(bankDir, schedDir);
    const schedulerPort = await freePort();
    bankConfig = loadBankConfig({
      DCP_EMU_DATA_DIR: bankDir,
      DCP_EMU_BANK_PORT: '0',
      DCP_EMU_LOG_LEVEL: 'warn',
      DCP_EMU_SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}/`,
    });
    bank = await startService(AppModule.forRoot(bankConfig), { name: 'bank', ...bankConfig });
    scheduler = await startScheduler(
      schedDir,
      { DCP_EMU_BANK_URL: bankUrl(), DCP_EMU_SETTLE_MS: '200' },
      schedulerPort,
    );
    schedulerAddress = (await getJson<{ address: string }>(new URL('api/identity', scheduler.url).href))
      .address;
    evaluator = await startEvaluator();
    worker = await startDcpWorker(scheduler.url, evaluator.port);
    workerPays = (
      JSON.parse(readFileSync(join(worker.home, '.dcp/default.keystore'), 'utf8')) as { address: string }
    ).address;
    workerPays = workerPays.startsWith('0x') ? workerPays : `0x${workerPays}`;
  }, 180_000);

  afterAll(async () => {
    await worker?.stop('SIGINT');
    await evaluator?.stop();
    await scheduler?.stop();
    await bank?.close();
    cleanup(...dirs, worker?.home);
  });

  it('an array job pays each result to the worker plus commission; the rest comes back', async () => {
    const { home, payer } = clientHome();
    await faucet(payer, '2');
    const workerBefore = await balanceOf(workerPays);
    const schedulerBefore = await balanceOf(schedulerAddress);

    const { code, last, output } = await run(home, 'array');
    expect(code, output).toBe(0);
    expect(last.results, output).toEqual([2, 4, 6, 8]);

    const after = await settled(payer);
    const cost = 4n * (PER_SLICE + COMMISSION);
    expect(dcc(after.balance)).toBe(dcc('2') - cost);
    expect((await balanceOf(workerPays)) - workerBefore).toBe(4n * PER_SLICE);
    expect((await balanceOf(schedulerAddress)) - schedulerBefore).toBe(4n * COMMISSION);

    // the job's money trail: escrow → 4 payments (with commission) → refund of the rest, adding up
    const trail = await getJson<{
      escrowed: string;
      paid: string;
      commission: string;
      refunded: string;
      steps: { kind: string }[];
    }>(new URL(`api/jobs/${String(last.job)}/trail`, bankUrl()).href);
    expect(trail.steps.filter((s) => s.kind === 'payment')).toHaveLength(4);
    expect(dcc(trail.paid)).toBe(4n * PER_SLICE);
    expect(dcc(trail.commission)).toBe(4n * COMMISSION);
    expect(dcc(trail.escrowed) - dcc(trail.refunded)).toBe(cost);

    // the scheduler's inspection API shows what each slice earned
    const slices = await getJson<{ slices: { payment?: { amount: string; settled: boolean } }[] }>(
      new URL(`api/jobs/${String(last.job)}/slices`, scheduler.url).href,
    );
    expect(slices.slices.map((s) => s.payment?.amount)).toEqual(Array(4).fill(formatDcc(PER_SLICE)));
  }, 150_000);

  it('an empty payment account gets ENOFUNDS at deploy and nothing moves', async () => {
    const { home, payer } = clientHome();
    const { code, last, output } = await run(home, 'range');
    expect(code, output).toBe(0);
    expect(last.code, output).toBe('ENOFUNDS');
    expect(await balanceOf(payer)).toBe(0n);
    const jobs = await getJson<{ jobs: { owner: string }[] }>(
      new URL('api/jobs?limit=1000', scheduler.url).href,
    );
    expect(jobs.jobs.length).toBeGreaterThan(0); // the earlier job is there; the refused one is not
  }, 150_000);

  it('a job its account cannot cover waits for funds (nofunds), then completes once funded', async () => {
    const { home, payer } = clientHome();
    // enough for the deposit slice held at submit, not for the 3 uploaded after it
    await faucet(payer, '0.00015');
    const client = runClient(
      home,
      CLIENT_SCRIPT,
      {
        DCP_SCHEDULER_LOCATION: scheduler.url,
        DCP_CLIENT_DIR: DCP_CLIENT[5],
        DCP_BUNDLE_AUTOUPDATE: 'false',
      },
      ['array'],
    );
    // find the job by its hold, then wait until the scheduler reports it short of funds
    let jobId: string | undefined;
    type EscrowView = { shortSince: string | null; fundedSlices: number };
    let short = null as EscrowView | null;
    const deadline = Date.now() + 60_000;
    while (!short?.shortSince) {
      if (Date.now() > deadline) throw new Error(`the job never went short:\n${client.out}`);
      await new Promise((r) => setTimeout(r, 200));
      const holds = (await account(payer)).openHolds as { refs: { job?: string } }[];
      jobId ??= holds[0]?.refs.job;
      if (jobId)
        ({ escrow: short } = await getJson<{ escrow: EscrowView | null }>(
          new URL(`api/jobs/${jobId}/escrow`, scheduler.url).href,
        ));
    }
    expect(short?.fundedSlices).toBe(1);
    const job = await getJson<{ slices: { done: number } }>(new URL(`api/jobs/${jobId}`, scheduler.url).href);
    expect(job.slices.done).toBeLessThan(4);
    expect(client.running).toBe(true);

    await faucet(payer, '1');
    const code = await Promise.race([
      client.exited,
      new Promise((r) => setTimeout(() => r('timeout'), 90_000)),
    ]);
    expect(code, client.out).toBe(0);
    expect(client.out).toContain('"results":[2,4,6,8]');
    const after = await settled(payer);
    expect(dcc(after.balance)).toBe(dcc('1.00015') - 4n * (PER_SLICE + COMMISSION));
  }, 150_000);

  it('cancel refunds what the job did not spend', async () => {
    const { home, payer } = clientHome();
    await faucet(payer, '1');
    const { code, last, lines, output } = await run(home, 'slow');
    expect(code, output).toBe(0);
    expect(last.code, output).toBeUndefined();
    expect(String(last.error), output).toContain('enough');
    const jobId = String(lines.find((l) => l.job)?.job);
    const after = await settled(payer);
    const trail = await getJson<{ paid: string; commission: string; escrowed: string; refunded: string }>(
      new URL(`api/jobs/${jobId}/trail`, bankUrl()).href,
    );
    const spent = dcc(trail.paid) + dcc(trail.commission);
    expect(dcc(trail.paid) % PER_SLICE).toBe(0n);
    expect(dcc(trail.paid) / PER_SLICE).toBeLessThan(8n);
    expect(dcc(after.balance)).toBe(dcc('1') - spent);
    expect(dcc(trail.refunded)).toBe(dcc(trail.escrowed) - spent);
  }, 150_000);

  it('payments owed while the bank is down are settled once it is back; nothing is paid twice', async () => {
    const { home, payer } = clientHome();
    await faucet(payer, '1');
    const workerBefore = await balanceOf(workerPays);
    const client = start(home, 'slow', { NO_CANCEL: '1' });
    await client.waitFor(/OUT \{"result":\d+\}/, 90_000);
    await bank.close(); // the scheduler's captures now fail; the job goes on
    const code = await Promise.race([
      client.exited,
      new Promise((r) => setTimeout(() => r('timeout'), 90_000)),
    ]);
    expect(code, client.out).toBe(0);
    expect(client.out).toContain('"results":[1,2,3,4,5,6,7,8]');

    bank = await startService(AppModule.forRoot(bankConfig), {
      name: 'bank',
      ...bankConfig,
      port: Number(new URL(bank.listening.url).port),
    });
    const after = await settled(payer);
    expect(dcc(after.balance)).toBe(dcc('1') - 8n * (PER_SLICE + COMMISSION));
    expect((await balanceOf(workerPays)) - workerBefore).toBe(8n * PER_SLICE);
  }, 200_000);
});
