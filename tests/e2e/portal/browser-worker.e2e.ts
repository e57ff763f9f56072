import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '@dcp-emu/protocol/node';
import { type BrowserContext, chromium, type Page, type WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, DCP_CLIENT, peerHome, Proc, runClient, startScheduler } from '../scheduler/harness';
import { ensurePortalBuild, PORTAL_DIR, REPO, type RunningPortal, startPortal } from './portal-app';

/**
 * Acceptance 3 (issue 7): the browser worker computes slices of a job in the page and its earnings
 * appear. Real scheduler + bank (from source) + portal (`next start`), Debian's Chromium: sign up,
 * create a bank account, "Start working", deploy a job with the unmodified dcp-client 5.6.1 (no
 * other worker runs), see the results computed in the page, then "Stop working" and check the
 * worker let go of its Web Workers and sockets.
 */

const SHOTS = join(REPO, 'artifacts/screenshots');
const CLIENT_SCRIPT = join(REPO, 'tests/e2e/scheduler/client-script.cjs');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT = { timeout: 30_000, interval: 100 };

/** The portal build must also be newer than the worker sources it bundles (portal-app checks the rest). */
function dropStalePortalBuild(): void {
  const buildId = join(PORTAL_DIR, '.next/cache/e2e-build/BUILD_ID');
  if (!existsSync(buildId)) return;
  const newest = (path: string): number => {
    const s = statSync(path);
    if (!s.isDirectory()) return s.mtimeMs;
    return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
  };
  if (newest(join(REPO, 'apps/worker/src')) >= statSync(buildId).mtimeMs) rmSync(buildId);
}

/** The bank from its TypeScript sources, as `npm start` runs it. */
async function startBank(dataDir: string, env: Record<string, string>): Promise<Proc & { url: string }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(REPO, 'apps/bank/src/main.ts')],
    {
      cwd: REPO,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.base.json'),
        DCP_EMU_DATA_DIR: dataDir,
        DCP_EMU_BANK_PORT: '0',
        DCP_EMU_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const proc = new Proc(child);
  const m = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+\/)","msg":"listening"/, 60_000);
  return Object.assign(proc, { url: m[1] as string });
}

let work: string;
let bank: (Proc & { url: string }) | undefined;
let scheduler: (Proc & { url: string }) | undefined;
let portal: RunningPortal | undefined;
let context: BrowserContext | undefined;
let clientHome: string | undefined;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'dcp-emu-browser-worker-'));
  dropStalePortalBuild();
  ensurePortalBuild();
  // the bank trusts this scheduler's identity for escrow (made here, before either starts)
  const schedulerKeystore = join(work, 'scheduler.keystore');
  const schedulerIdentity = loadOrCreateIdentity(schedulerKeystore);
  bank = await startBank(join(work, 'bank'), { DCP_EMU_BANK_SCHEDULERS: schedulerIdentity.address });
  scheduler = await startScheduler(join(work, 'scheduler'), {
    DCP_EMU_BANK_URL: bank.url,
    DCP_EMU_SCHEDULER_KEYSTORE: schedulerKeystore,
  });
  // startPortal passes our environment on: the portal's pages and routes read these
  process.env.DCP_EMU_SCHEDULER_URL = scheduler.url;
  process.env.DCP_EMU_BANK_URL = bank.url;
  portal = await startPortal();
}, 900_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await portal?.stop();
  await scheduler?.stop();
  await bank?.stop();
  cleanup(clientHome, work);
});

async function signUpWithBankAccount(page: Page): Promise<string> {
  const email = `worker-${Date.now()}@example.test`;
  const password = 'browser worker 1';
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/keystores');

  // before there is a bank account, the worker page says where to make one
  await page.goto('/worker');
  await expect.poll(() => page.getByTestId('worker-no-accounts').isVisible(), WAIT).toBe(true);

  await page.goto('/keystores');
  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Create a keystore' }) });
  await form.getByLabel('Bank account').check();
  await form.getByLabel('Label').fill('earnings');
  await form.getByLabel(/No passphrase/).check();
  await form.getByRole('button', { name: 'Create keystore' }).click();
  await expect
    .poll(() => page.getByTestId('keystore-notice').textContent(), { ...WAIT, timeout: 60_000 })
    .toContain('"earnings"');
  const address = await page.getByTestId('keystore-row').first().getAttribute('data-address');
  expect(address).toMatch(/^0x[0-9a-f]{40}$/);
  return address as string;
}

/** The account's balance as the bank itself reports it ('0' while the bank has not opened it). */
async function bankBalance(address: string): Promise<string> {
  const res = await fetch(`${bank?.url}api/accounts/${address}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { balance?: string; error?: { code: string } };
  if (res.status === 404 && body.error?.code === 'ENOACCOUNT') return '0';
  expect(res.status).toBe(200);
  return body.balance ?? '';
}

/** Funds the client's default.keystore account through the faucet (escrow needs money when metered). */
async function fundClient(home: string): Promise<void> {
  const keystore = JSON.parse(readFileSync(join(home, '.dcp/default.keystore'), 'utf8')) as {
    address: string;
  };
  const address = `0x${keystore.address.replace(/^0x/, '')}`;
  const res = await fetch(`${bank?.url}api/faucet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address, amount: '100' }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(201);
}

describe('portal browser worker', () => {
  it('computes a dcp-client job in the page, shows progress and earnings, and stops cleanly', async () => {
    const profile = mkdtempSync(join(work, 'profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 1000 },
      baseURL: portal?.url,
    });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const sockets: WebSocket[] = [];
    page.on('websocket', (ws) => sockets.push(ws));

    try {
      await computeAndStop(page, sockets, pageErrors);
    } catch (e) {
      await page
        .screenshot({ path: join(SHOTS, 'browser-worker-failure.png'), fullPage: true })
        .catch(() => undefined);
      throw e;
    }
  }, 600_000);
});

async function computeAndStop(page: Page, sockets: WebSocket[], pageErrors: string[]): Promise<void> {
  const account = await signUpWithBankAccount(page);
  await page.goto('/worker');
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe('Browser worker');
  await expect.poll(() => page.getByLabel('Earn into').inputValue(), WAIT).toBe(account);
  await page.getByLabel('Sandboxes (Web Workers)').selectOption('2');
  await expect.poll(() => page.getByTestId('account-balance').textContent(), WAIT).toMatch(/DCC$/);
  const balanceBefore = await bankBalance(account);

  await page.getByRole('button', { name: 'Start working' }).click();
  await expect.poll(() => page.getByTestId('worker-phase').getAttribute('data-phase'), WAIT).toBe('working');
  // the first fetch opens a sandbox (a Web Worker from the data: URL) for its capabilities
  await expect.poll(() => sockets.filter((s) => s.url().startsWith('ws://')).length, WAIT).toBeGreaterThan(0);
  const identity = await page.getByTestId('worker-identity').textContent();
  expect(identity).toMatch(/^0x[0-9a-fA-F]{40}$/);

  // deploy with the unmodified dcp-client 5.6.1: no other worker is running
  clientHome = peerHome('dcp-emu-bw-client-');
  await fundClient(clientHome);
  const client = runClient(
    clientHome,
    CLIENT_SCRIPT,
    {
      DCP_SCHEDULER_LOCATION: scheduler?.url ?? '',
      DCP_CLIENT_DIR: DCP_CLIENT[5],
      SLICES: '4',
      SLICE_MS: '1500',
    },
    ['slow'],
  );
  await client.waitFor(/OUT \{"accepted":"/, 60_000);
  // slices at hand, with progress, each in a Web Worker of the page
  await expect.poll(() => page.getByTestId('worker-slice').count(), WAIT).toBeGreaterThan(0);
  // (Playwright does not list workers of opaque origins; the page counts its open Web Workers)
  await expect.poll(() => page.getByTestId('sandboxes').textContent(), WAIT).toMatch(/^[12] \/ [12]$/);
  await page.screenshot({ path: join(SHOTS, 'browser-worker-working.png'), fullPage: true });
  const done = await client.waitFor(/OUT (\{"done":.*\})/, 120_000);
  const out = JSON.parse(done[1] as string) as { done: number[]; resultEvents: number[] };
  expect(out.done).toEqual([1, 4, 9, 16]);
  expect(out.resultEvents.sort()).toEqual([1, 2, 3, 4]);

  // the page counts the slices it computed, per job too
  await expect.poll(() => page.getByTestId('slices-computed').textContent(), WAIT).toBe('4');
  const jobId = /OUT \{"accepted":"([^"]+)"/.exec(client.out)?.[1] ?? '';
  await expect.poll(() => page.getByTestId('worker-jobs').textContent(), WAIT).toContain(jobId);
  await expect.poll(() => page.getByTestId('worker-jobs').textContent(), WAIT).toContain('4 slice(s)');

  // earnings: what the scheduler reported paying must arrive in the bank and on the page
  const earned = Number((await page.getByTestId('earned').textContent())?.replace(/ DCC$/, ''));
  // metered: 4 slices at the market rate (0.0001 DCC each), settled into the chosen account
  expect(earned).toBeCloseTo(0.0004, 9);
  await expect
    .poll(async () => Number(await bankBalance(account)) - Number(balanceBefore), {
      ...WAIT,
      timeout: 60_000,
    })
    .toBeCloseTo(earned, 9);
  await expect
    .poll(
      async () =>
        (await page.getByTestId('account-balance').textContent()) === `${await bankBalance(account)} DCC`,
      { ...WAIT, timeout: 15_000 },
    )
    .toBe(true);
  await page.screenshot({ path: join(SHOTS, 'browser-worker.png'), fullPage: true });

  // stop: Web Workers terminated, DCP sockets closed, the page says so
  await page.getByRole('button', { name: 'Stop working' }).click();
  await expect.poll(() => page.getByTestId('worker-phase').getAttribute('data-phase'), WAIT).toBe('stopped');
  await expect
    .poll(() => page.getByTestId('worker-log').textContent(), WAIT)
    .toContain('disconnected from the scheduler');
  await expect.poll(() => page.getByTestId('sandboxes').textContent(), WAIT).toBe('0 / 0');
  await expect.poll(() => sockets.every((s) => s.isClosed()), WAIT).toBe(true);
  await expect.poll(() => page.getByRole('button', { name: 'Start working' }).isEnabled(), WAIT).toBe(true);
  expect(pageErrors).toEqual([]);
  await client.stop();
}
