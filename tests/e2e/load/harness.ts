/**
 * What the load and durability suites share: a paying stack (scheduler and bank as their own processes
 * on one database, as `dcp-emu up` runs them), a funded client HOME, the client program, and the checks
 * that every slice's result reached the client exactly once and that the ledger balances.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcc } from '@dcp-emu/protocol/node';
import {
  DCP_CLIENT,
  freePort,
  getJson,
  peerHome,
  type Proc,
  runClient,
  startBank,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';
import { expect } from 'vitest';

export const PER_SLICE = dcc('0.0001'); // the market rate: the client offers compute.marketRate

export type Service = Proc & { url: string; port: number };

/** Slice count from an env variable (a positive integer), else the default. */
export function sliceCount(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

export interface PaidStack {
  dataDir: string;
  env: Record<string, string>;
  scheduler: Service;
  bank: Service;
  schedulerPort: number;
  bankPort: number;
}

/**
 * Scheduler, then bank (the scheduler migrates the database first, as in `dcp-emu up`), both on
 * `databaseUrl` with their keys in `dataDir`; the bank trusts the scheduler for escrow. `env` is what
 * both were started with (restart them with it).
 */
export async function startPaidStack(
  dataDir: string,
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<PaidStack> {
  const schedulerPort = await freePort();
  const bankPort = await freePort();
  const env = {
    DCP_EMU_DATABASE_URL: databaseUrl,
    DCP_EMU_SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}/`,
    DCP_EMU_BANK_URL: `http://127.0.0.1:${bankPort}/`,
    DCP_EMU_SETTLE_MS: '200',
    ...extraEnv,
  };
  const scheduler = await startScheduler(dataDir, env, schedulerPort);
  const bank = await startBank(dataDir, env, bankPort);
  return { dataDir, env, scheduler, bank, schedulerPort, bankPort };
}

export interface Account {
  address: string;
  balance: string;
  held: string;
  openHolds: unknown[];
}

export async function balanceOf(bankUrl: string, address: string): Promise<bigint> {
  const res = await fetch(new URL(`api/accounts/${address}`, bankUrl), {
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status === 404) return 0n;
  if (!res.ok) throw new Error(`balance of ${address}: ${res.status}`);
  return dcc(((await res.json()) as Account).balance);
}

export async function faucet(bankUrl: string, address: string, amount: string): Promise<void> {
  const res = await fetch(new URL('api/faucet', bankUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address, amount }),
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status, await res.text()).toBe(201);
}

/** A client HOME with fresh keystores and the client program; returns its payment account. */
export function clientHome(): { home: string; script: string; payer: string } {
  const home = peerHome('dcp-emu-load-client-');
  const script = writePeerFile(home, 'client.cjs', readFileSync(join(__dirname, 'load-client.cjs'), 'utf8'));
  const { address } = JSON.parse(readFileSync(join(home, '.dcp/default.keystore'), 'utf8')) as {
    address: string;
  };
  return { home, script, payer: address.startsWith('0x') ? address : `0x${address}` };
}

/** Starts the client program: one range job of `slices` trivial slices. */
export function startJob(home: string, script: string, schedulerUrl: string, slices: number): Proc {
  return runClient(home, script, {
    DCP_SCHEDULER_LOCATION: schedulerUrl,
    DCP_CLIENT_DIR: DCP_CLIENT[5],
    DCP_BUNDLE_AUTOUPDATE: 'false',
    SLICES: String(slices),
    PROGRESS_EVERY: String(Math.max(50, Math.round(slices / 40))),
  });
}

/** Distinct results the client has seen so far (its latest progress line). */
export function progressOf(client: Proc): number {
  const all = [...client.out.matchAll(/^OUT \{"progress":(\d+)\}/gm)];
  return Number(all.at(-1)?.[1] ?? 0);
}

export interface ClientDone {
  job: string;
  slices: number;
  results: number;
  resultEvents: number;
  duplicates: number;
  wrong: number;
  /** the first few result events whose value was not the slice's (kind and text) */
  wrongSamples?: { sliceNumber: number; type: string; value: string }[];
  outOfRange: number;
  mismatched: number;
}

/**
 * Waits for the client's verdict and checks every slice's result arrived exactly once, with its value
 * (every `result` event's and the final results'). A result event pushed while the client was away
 * (a killed scheduler) is pushed again when it subscribes again (apps/scheduler ResultFeed); were it
 * lost, dcp-client would fetch it at the end and emit it with another slice's value (`wrong`).
 */
export async function expectExactlyOnce(client: Proc, slices: number, ms: number): Promise<ClientDone> {
  await client.waitFor(/^OUT \{"(done|failed|fatal)"/m, ms);
  const last = client.outputs().find((o) => 'done' in o || 'failed' in o || 'fatal' in o) ?? {};
  const done = last.done as ClientDone | undefined;
  expect(done, client.out.slice(-4000)).toBeDefined();
  if (done?.wrong)
    process.stdout.write(
      `[exactly-once] result events with another value: ${JSON.stringify(done.wrongSamples)}\n`,
    );
  expect({
    results: done?.results,
    resultEvents: done?.resultEvents,
    duplicates: done?.duplicates,
    wrong: done?.wrong,
    outOfRange: done?.outOfRange,
    mismatched: done?.mismatched,
  }).toEqual({
    results: slices,
    resultEvents: slices,
    duplicates: 0,
    wrong: 0,
    outOfRange: 0,
    mismatched: 0,
  });
  return done as ClientDone;
}

export interface SliceView {
  sliceNumber: number;
  status: string;
  attempts: number;
  payment?: { payTo: string; amount: string; commission: string; commissionTo: string; settled: boolean };
}

/** Every slice of a job from the scheduler's inspection API, page by page. */
export async function allSlices(schedulerUrl: string, job: string): Promise<SliceView[]> {
  const out: SliceView[] = [];
  for (;;) {
    const from = (out.at(-1)?.sliceNumber ?? 0) + 1;
    const page = await getJson<{ slices: SliceView[] }>(
      new URL(`api/jobs/${job}/slices?from=${from}&limit=5000`, schedulerUrl).href,
    );
    out.push(...page.slices);
    if (page.slices.length < 5000) return out;
  }
}

/** Waits (bounded) until every payment of the job is settled and the payer's escrow is released. */
export async function waitSettled(
  schedulerUrl: string,
  bankUrl: string,
  job: string,
  payer: string,
  ms: number,
): Promise<SliceView[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const slices = await allSlices(schedulerUrl, job);
    const account = await getJson<Account>(new URL(`api/accounts/${payer}`, bankUrl).href);
    const unsettled = slices.filter((s) => !s.payment?.settled).length;
    if (unsettled === 0 && account.openHolds.length === 0 && dcc(account.held) === 0n) return slices;
    if (Date.now() > deadline)
      throw new Error(`job ${job} not settled: ${unsettled} slices unpaid, payer ${JSON.stringify(account)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The ledger balances for the job: each slice paid exactly once at the market rate to the worker that
 * computed it; the payer's debit = workers' credits + commission, and escrowed = that + the released
 * rest; each worker's payment address and the commission account gained exactly what the slices say.
 */
export async function expectLedgerBalances(opts: {
  bankUrl: string;
  job: string;
  slices: SliceView[];
  payer: string;
  payerBefore: bigint;
  /** balance before the job of each account commission may go to, by lower-case address */
  commissionBefore: Map<string, bigint>;
}): Promise<{ paidTo: Map<string, number> }> {
  const { bankUrl, job, slices, payer } = opts;
  const trail = await getJson<{ escrowed: string; paid: string; commission: string; refunded: string }>(
    new URL(`api/jobs/${job}/trail`, bankUrl).href,
  );
  const n = BigInt(slices.length);
  const paid = dcc(trail.paid);
  const commission = dcc(trail.commission);
  expect(paid).toBe(n * PER_SLICE);
  expect(slices.every((s) => s.payment && dcc(s.payment.amount) === PER_SLICE)).toBe(true);

  const debit = opts.payerBefore - (await balanceOf(bankUrl, payer));
  expect(debit).toBe(paid + commission);
  expect(dcc(trail.escrowed) - dcc(trail.refunded)).toBe(paid + commission);

  const perWorker = new Map<string, bigint>();
  const paidTo = new Map<string, number>();
  const perCommission = new Map<string, bigint>();
  for (const s of slices) {
    const p = s.payment as NonNullable<SliceView['payment']>;
    const to = p.payTo.toLowerCase();
    const cto = p.commissionTo.toLowerCase();
    perWorker.set(to, (perWorker.get(to) ?? 0n) + dcc(p.amount));
    paidTo.set(to, (paidTo.get(to) ?? 0) + 1);
    perCommission.set(cto, (perCommission.get(cto) ?? 0n) + dcc(p.commission));
  }
  let credited = 0n;
  for (const [address, amount] of perWorker) {
    const balance = await balanceOf(bankUrl, address); // fresh payment addresses: all they hold is this job's
    expect(balance, `worker ${address}`).toBe(amount);
    credited += balance;
  }
  expect(credited).toBe(paid);
  let commissioned = 0n;
  for (const [address, amount] of perCommission) {
    const gained = (await balanceOf(bankUrl, address)) - (opts.commissionBefore.get(address) ?? 0n);
    expect(gained, `commission account ${address}`).toBe(amount);
    commissioned += gained;
  }
  expect(commissioned).toBe(commission);
  return { paidTo };
}

/** The scheduler's identity address (its commission account unless a compute group says otherwise). */
export async function schedulerAddress(schedulerUrl: string): Promise<string> {
  return (await getJson<{ address: string }>(new URL('api/identity', schedulerUrl).href)).address;
}
