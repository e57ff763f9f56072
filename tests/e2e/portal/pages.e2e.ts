import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule, loadBankConfig } from '@dcp-emu/bank';
import { type RunningService, startService } from '@dcp-emu/nest-kit';
import { freePort } from '@dcp-emu/testing';
import { encryptKeystoreJson, Wallet } from 'ethers';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import {
  DCP_CLIENT,
  peerHome,
  Proc,
  runClient,
  startDcpWorker,
  startEvaluator,
  startScheduler,
  unprivileged,
} from '../scheduler/harness';
import { ensurePortalBuild, REPO, type RunningPortal, startPortal } from './portal-app';

/**
 * The portal's bank, jobs, compute-group and workers pages end to end, in Debian's Chromium, on a
 * real stack: the bank (escrow on), the scheduler (its own process), the unmodified dcp-worker 3.3.19
 * (as `nobody`) on our evaluator, and the portal's own server (Next.js plus `/api/live`). Jobs are
 * deployed by the unmodified dcp-client 5.6.1 with the keystores downloaded from the browser.
 */

const SHOTS = join(REPO, 'artifacts/screenshots');
/** This suite's own portal build (other suites rebuilding theirs cannot disturb its server). */
const BUILD = '.next/cache/e2e-pages-build';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
const WAIT = { timeout: 30_000, interval: 100 };
const DOWNLOAD_BUTTON = { identity: 'Download id.keystore', bank: 'Download default.keystore' } as const;

let bank: RunningService;
let scheduler: Proc & { url: string };
let evaluators: (Proc & { port: number })[] = [];
let publicWorker: Proc & { home: string };
let groupWorker: Proc | undefined;
let portal: RunningPortal;
let work: string;
const contexts: BrowserContext[] = [];
const dirs: string[] = [];

const bankUrl = () => bank.listening.url;

function chownTree(path: string): void {
  const ids = unprivileged();
  if (!ids) return;
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f));
}

function addressOf(keystoreText: string): string {
  const a = (JSON.parse(keystoreText) as { address: string }).address.toLowerCase();
  return a.startsWith('0x') ? a : `0x${a}`;
}

async function browserContext(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(work, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
    baseURL: portal.url,
  });
  context.setDefaultTimeout(30_000);
  contexts.push(context);
  return context;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `portal-${name}.png`), fullPage: true });
}

async function signUp(page: Page, email: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill('a long password 1');
  await page.getByLabel('Repeat the password').fill('a long password 1');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/keystores');
}

/** Creates a keystore without passphrase in the browser and downloads it; returns the file text. */
async function createAndDownload(page: Page, kind: 'identity' | 'bank', label: string): Promise<string> {
  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Create a keystore' }) });
  await form.getByLabel(kind === 'identity' ? 'Identity' : 'Bank account').check();
  await form.getByLabel('Label').fill(label);
  await form.getByLabel(/No passphrase/).check();
  await form.getByRole('button', { name: 'Create keystore' }).click();
  await expect.poll(() => page.getByTestId('keystore-notice').textContent(), WAIT).toContain(`"${label}"`);
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: DOWNLOAD_BUTTON[kind] }).click(),
  ]);
  const path = join(work, `${Date.now()}-${file.suggestedFilename()}`);
  await file.saveAs(path);
  return readFileSync(path, 'utf8');
}

/** A HOME for the unmodified dcp-client with the downloaded keystores in ~/.dcp, owned by the peer user. */
function clientHome(idText: string, bankText: string): string {
  const home = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-client-'));
  dirs.push(home);
  mkdirSync(join(home, '.dcp'));
  writeFileSync(join(home, '.dcp/id.keystore'), idText);
  writeFileSync(join(home, '.dcp/default.keystore'), bankText);
  chownTree(home);
  return home;
}

/** dcp-client 5.6.1 deploys an array job (slow enough slices to watch), optionally into a compute group. */
function deploy(
  home: string,
  name: string,
  count: number,
  sliceMs: number,
  group?: { joinKey: string; joinSecret: string },
): Proc {
  const script = join(home, `${name.replace(/\W/g, '-')}.js`);
  writeFileSync(
    script,
    `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const job = compute.for(Array.from({ length: ${count} }, (_, i) => i + 1), async (x) => {
    progress(0);
    await new Promise((r) => setTimeout(r, ${sliceMs}));
    console.log('squaring', x);
    progress(1);
    return x * x;
  });
  job.public.name = ${JSON.stringify(name)};
  ${group ? `job.computeGroups = [${JSON.stringify(group)}];` : ''}
  job.on('accepted', () => console.log('ACCEPTED ' + job.id));
  const results = await job.exec();
  console.log('RESULTS ' + JSON.stringify(Array.from(results)));
  process.exit(0);
}).catch((e) => { console.log('FAILED ' + (e && e.code) + ' ' + (e && e.message)); process.exit(2); });
`,
  );
  chownTree(script);
  return runClient(home, script, {
    DCP_SCHEDULER_LOCATION: scheduler.url,
    DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
    DCP_BUNDLE_AUTOUPDATE: 'false',
  });
}

/** A second unmodified dcp-worker that joins a compute group with `-g joinKey,joinSecret`. */
async function startGroupWorker(evaluatorPort: number, join_: string): Promise<Proc & { home: string }> {
  const home = peerHome('dcp-emu-group-worker-');
  dirs.push(home);
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'node_modules/dcp-worker/bin/dcp-worker'),
      '-o',
      'console',
      '--port',
      String(evaluatorPort),
      '--hostname',
      '127.0.0.1',
      '-c',
      '2',
      '-g',
      join_,
    ],
    {
      cwd: home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        LANG: 'C',
        DCP_SCHEDULER_LOCATION: scheduler.url,
        DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(unprivileged() ?? {}),
    },
  );
  const proc = new Proc(child);
  await proc.waitFor(/\* Ready\./, 60_000);
  return Object.assign(proc, { home });
}

function dcc(amount: string): bigint {
  const [w = '0', f = ''] = amount.replace('-', '').split('.');
  const v = BigInt(w) * 10n ** 18n + BigInt(f.padEnd(18, '0').slice(0, 18) || '0');
  return amount.startsWith('-') ? -v : v;
}

const ADMIN_TOKEN = randomBytes(16).toString('hex');

beforeAll(async () => {
  ensurePortalBuild(BUILD);
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-pages-'));
  const schedulerPort = await freePort();
  const cfg = loadBankConfig({
    DCP_EMU_DATA_DIR: join(work, 'bank'),
    DCP_EMU_BANK_PORT: '0',
    DCP_EMU_LOG_LEVEL: 'warn',
    DCP_EMU_SCHEDULER_URL: `http://127.0.0.1:${schedulerPort}/`,
  });
  mkdirSync(join(work, 'bank'));
  bank = await startService(AppModule.forRoot(cfg), { name: 'bank', ...cfg });
  mkdirSync(join(work, 'scheduler'));
  scheduler = await startScheduler(
    join(work, 'scheduler'),
    { DCP_EMU_BANK_URL: bankUrl(), DCP_EMU_SETTLE_MS: '200', DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN },
    schedulerPort,
  );
  evaluators = [await startEvaluator(), await startEvaluator()];
  publicWorker = await startDcpWorker(scheduler.url, (evaluators[0] as { port: number }).port);
  dirs.push(publicWorker.home);
  portal = await startPortal(
    {
      DCP_EMU_SCHEDULER_URL: scheduler.url,
      DCP_EMU_BANK_URL: bankUrl(),
      DCP_EMU_PORTAL_LIVE_INTERVAL_MS: '250',
      // the portal's server-side credential for the scheduler's mutating routes, as `dcp-emu up` passes it
      DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    BUILD,
  );
}, 900_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await portal?.stop();
  await groupWorker?.stop('SIGINT');
  await publicWorker?.stop('SIGINT');
  for (const e of evaluators) await e.stop();
  await scheduler?.stop();
  await bank?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('portal pages on a real stack', () => {
  const alice = {
    email: `alice-${Date.now()}@example.test`,
    bank: '',
    identity: '',
    home: '',
    job: '',
    groupJob: '',
  };
  let page: Page;

  it('sign up → keystores → faucet → dcp-client deploys with them → the job page follows it live → the money trail adds up', async () => {
    page = await (await browserContext()).newPage();
    await signUp(page, alice.email);

    // Empty states say what to do.
    await page.goto('/bank');
    await expect.poll(() => page.getByTestId('accounts-empty').isVisible(), WAIT).toBe(true);
    await page.goto('/jobs');
    await expect.poll(() => page.getByTestId('jobs-empty').isVisible(), WAIT).toBe(true);
    await shot(page, 'jobs-empty');

    await page.goto('/keystores');
    const idText = await createAndDownload(page, 'identity', 'alice id');
    const bankText = await createAndDownload(page, 'bank', 'alice bank');
    alice.identity = addressOf(idText);
    alice.bank = addressOf(bankText);

    // Faucet through the bank page; the balance updates live (no reload).
    await page.goto('/bank');
    await expect.poll(() => page.getByTestId('live-status').getAttribute('data-status'), WAIT).toBe('live');
    const row = page.locator(`[data-testid=account-row][data-address="${alice.bank}"]`);
    await expect.poll(() => row.getByTestId('account-balance').textContent(), WAIT).toBe('0');
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await page.locator('#faucet-amount').fill('10');
    await page.getByRole('button', { name: 'Get DCC from the faucet' }).click();
    await expect.poll(() => page.getByTestId('faucet-notice').textContent(), WAIT).toContain('10 DCC added');
    await expect.poll(() => row.getByTestId('account-balance').textContent(), WAIT).toBe('10');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await shot(page, 'bank');

    // The unmodified dcp-client deploys with the keystores the browser made.
    alice.home = clientHome(idText, bankText);
    const client = deploy(alice.home, 'portal e2e squares', 20, 2_000);
    alice.job = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
    await page.goto(`/jobs/${alice.job}`);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const done = async () =>
      Number(/^(\d+) of 20$/.exec((await page.getByTestId('slices-done').textContent()) ?? '')?.[1] ?? -1);
    const seen = new Set<number>();
    // progress is followed live on this one page load, slice by slice
    await expect
      .poll(
        async () => {
          const n = await done();
          if (n >= 0) seen.add(n);
          return n;
        },
        { timeout: 120_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(3);
    expect([...seen].some((n) => n > 0 && n < 3) || seen.has(0)).toBe(true);
    await shot(page, 'job-running');
    // results of the slices done so far are on the page: each slice squares its input
    const results = async () =>
      page
        .getByTestId('slice-row')
        .evaluateAll((rows) =>
          rows
            .filter((r) => r.querySelector('[data-testid=slice-result]'))
            .map((r) => [
              Number(r.getAttribute('data-slice')),
              Number(r.querySelector('[data-testid=slice-result]')?.textContent),
            ]),
        );
    await expect.poll(async () => (await results()).length, WAIT).toBeGreaterThanOrEqual(3);
    for (const [slice, value] of await results()) expect(value).toBe((slice as number) ** 2);
    // "why is this job (not) running?": the scheduler's explanation, per worker
    await expect.poll(() => page.getByTestId('explain-summary').textContent(), WAIT).toMatch(/computing/);
    expect(await page.getByTestId('explain-workers').locator('tr[data-reason]').count()).toBeGreaterThan(0);

    // Cancel from the page (keyboard): the rest of the escrow comes back.
    await page.getByRole('button', { name: 'Cancel job' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Yes, cancel the job' }).click();
    await expect
      .poll(() => page.getByTestId('job-status').getAttribute('data-status'), WAIT)
      .toBe('cancelled');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await expect
      .poll(() => page.getByTestId('explain-summary').getAttribute('data-reason'), WAIT)
      .toBe('job-not-running');

    // Money: escrow → payments + commission → refund add up once settled, and the payer's history shows them.
    await expect
      .poll(() => page.getByTestId('trail-held').getAttribute('data-amount'), { ...WAIT, timeout: 60_000 })
      .toBe('0');
    await expect
      .poll(() => page.getByTestId('trail-refunded').getAttribute('data-amount'), {
        ...WAIT,
        timeout: 60_000,
      })
      .not.toBe('0');
    await expect
      .poll(() => page.getByTestId('trail-balance').textContent(), WAIT)
      .toContain('add up to the escrow');
    const amount = async (id: string) => dcc((await page.getByTestId(id).getAttribute('data-amount')) ?? 'x');
    const escrowed = await amount('trail-escrowed');
    const paid = await amount('trail-paid');
    const commission = await amount('trail-commission');
    const refunded = await amount('trail-refunded');
    expect(paid > 0n && commission > 0n && refunded > 0n).toBe(true);
    expect(escrowed).toBe(paid + commission + refunded);
    await page.getByText(/Every movement/).click();
    const kinds = await page
      .getByTestId('trail-step')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds[0]).toBe('escrow');
    expect(kinds.filter((k) => k === 'payment').length).toBeGreaterThanOrEqual(3);
    expect(kinds.at(-1)).toBe('refund');
    // what the slices wrote with console.log, and the stop, in the console stream
    await expect.poll(() => page.getByTestId('console').textContent(), WAIT).toContain('squaring');
    await client.stop('SIGKILL');
    await shot(page, 'job');

    await page.goto(`/bank/${alice.bank}`);
    const rows = await page.getByTestId('history-row').evaluateAll((els) =>
      els.map((e) => ({
        reason: e.getAttribute('data-reason'),
        delta: e.getAttribute('data-delta') ?? '0',
      })),
    );
    const reasons = new Set(rows.map((r) => r.reason));
    expect([...reasons].every((r) => ['mint', 'hold', 'hold-increase', 'release'].includes(r ?? ''))).toBe(
      true,
    );
    expect(['mint', 'hold', 'release'].every((r) => reasons.has(r))).toBe(true);
    const net = rows.reduce((s, r) => s + dcc(r.delta), 0n);
    expect(net).toBe(dcc('10') - paid - commission);
    await shot(page, 'bank-history');

    await page.goto('/jobs');
    await expect.poll(() => page.getByTestId('job-row').count(), WAIT).toBe(1);
    await shot(page, 'jobs');
    await page.goto('/workers');
    await expect.poll(() => page.getByTestId('earnings-row').count(), WAIT).toBe(1);
    // the connected dcp-worker is listed even while idle, with the cores it offers
    await expect
      .poll(async () => (await page.getByTestId('worker-status').allTextContents()).join('|'), WAIT)
      .toMatch(/(idle|computing) · \d+ core/);
    await shot(page, 'workers');
  }, 400_000);

  it('a job deployed into a compute group made in the portal is computed only by the worker that joined it', async () => {
    await page.goto('/groups');
    await expect.poll(() => page.getByTestId('groups-empty').isVisible(), WAIT).toBe(true);
    const joinKey = `lab${Date.now()}`;
    // error state first: a join key with a space is refused next to its field
    await page.getByLabel('Name').fill('Alice lab');
    await page.getByLabel('Join key').fill('has space');
    await page.getByRole('button', { name: 'Create group' }).click();
    await expect
      .poll(() => page.locator('#group-key-error').textContent(), WAIT)
      .toContain('no spaces or commas');
    await page.getByLabel('Join key').fill(joinKey);
    await page.getByRole('button', { name: 'Create group' }).click();
    const joinSecret = (await page.getByTestId('join-secret').textContent({ timeout: 30_000 })) ?? '';
    expect(joinSecret).toMatch(/^[A-Za-z0-9]{32}$/);
    await expect
      .poll(() => page.getByTestId('group-secret-notice').textContent(), WAIT)
      .toContain(`-g '${joinKey},${joinSecret}'`);
    await shot(page, 'group-created');
    // the secret is never listed again
    expect(await (await page.request.get('/api/groups')).text()).not.toContain(joinSecret);
    expect(await (await fetch(new URL('api/compute-groups', scheduler.url))).text()).not.toContain(
      joinSecret,
    );

    groupWorker = await startGroupWorker(
      (evaluators[1] as { port: number }).port,
      `${joinKey},${joinSecret}`,
    );
    const client = deploy(alice.home, 'portal e2e group', 6, 300, { joinKey, joinSecret });
    alice.groupJob = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
    await client.waitFor(/RESULTS \[1,4,9,16,25,36\]/, 120_000);

    await page.goto(`/jobs/${alice.groupJob}`);
    await expect.poll(() => page.getByTestId('slices-done').textContent(), WAIT).toBe('6 of 6');
    const workers = await page
      .getByTestId('slice-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-worker')));
    expect(workers).toHaveLength(6);
    // every slice was computed by the worker that joined (by its identity), never by the public one
    const identity = (p: Proc) =>
      (/Identity is (0x[0-9a-fA-F]{40})/.exec(p.out)?.[1] ?? 'none').toLowerCase();
    const member = groupWorker as Proc;
    expect(new Set(workers.map((w) => w?.split('/')[0]?.toLowerCase()))).toEqual(new Set([identity(member)]));
    expect(identity(publicWorker)).not.toBe(identity(member));
    await member.waitFor(/(?:[\s\S]*?Slice Completed: slice \d+, \w+: portal e2e group){6}/, 20_000);
    expect(publicWorker.out).not.toMatch(/Slice (Started|Completed): slice \d+, \w+: portal e2e group/);
    await shot(page, 'group-job');

    await page.goto('/groups');
    const group = page.locator(`[data-testid=group][data-key="${joinKey}"]`);
    await expect.poll(() => group.isVisible(), WAIT).toBe(true);
    // the group lists its job and, as its members, the worker that computed it
    await expect
      .poll(() => group.locator(`[data-testid=group-job][data-job="${alice.groupJob}"]`).count(), WAIT)
      .toBe(1);
    await expect
      .poll(() => group.getByTestId('group-members').textContent(), WAIT)
      .toContain(`${identity(member)}/`);
    await shot(page, 'groups');
  }, 400_000);

  it("keeps a second user away from the first user's bank, jobs and groups (UI, REST and the live socket)", async () => {
    const bobPage = await (await browserContext()).newPage();
    await signUp(bobPage, `bob-${Date.now()}@example.test`);
    // alice's own list has both her jobs (the positive control for bob's empty one below)
    const aliceJobs = (await (await page.request.get('/api/jobs')).json()) as { jobs: { id: string }[] };
    expect(aliceJobs.jobs.map((j) => j.id).sort()).toEqual([alice.job, alice.groupJob].sort());

    // A transfer signed in alice's browser reaches bob's new account; bob's bank page shows it live.
    await bobPage.goto('/keystores');
    const bobBank = addressOf(await createAndDownload(bobPage, 'bank', 'bob bank'));
    await bobPage.goto('/bank');
    const bobRow = bobPage.locator(`[data-testid=account-row][data-address="${bobBank}"]`);
    await expect.poll(() => bobRow.getByTestId('account-balance').textContent(), WAIT).toBe('0');
    await page.goto('/bank');
    await page.getByLabel('To address').fill(bobBank);
    await page.locator('#transfer-amount').fill('1.5');
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await expect
      .poll(() => page.getByTestId('transfer-notice').textContent(), WAIT)
      .toContain(`Sent 1.5 DCC to ${bobBank}`);
    await expect.poll(() => bobRow.getByTestId('account-balance').textContent(), WAIT).toBe('1.5');
    await shot(bobPage, 'second-user-bank');

    // The emulated chain: withdraw from the bank to the chain, deposit part of it back (both signed here).
    await page.locator('#bridge-amount').fill('1');
    await page.getByRole('button', { name: 'Withdraw to the chain' }).click();
    await expect
      .poll(() => page.getByTestId('bridge-notice').textContent(), WAIT)
      .toContain('Withdrew 1 DCC');
    await page.locator('#bridge-amount').fill('0.25');
    await page.getByRole('button', { name: 'Deposit to the bank' }).click();
    await expect
      .poll(() => page.getByTestId('bridge-notice').textContent(), WAIT)
      .toContain('Deposited 0.25 DCC');
    await expect
      .poll(() => page.getByTestId('bridge-balances').textContent(), WAIT)
      .toContain('On the chain0.75 DCC');
    await shot(page, 'bank-bridge');

    await bobPage.goto('/jobs');
    await expect.poll(() => bobPage.getByTestId('jobs-empty').isVisible(), WAIT).toBe(true);
    await bobPage.goto(`/jobs/${alice.job}`);
    await expect
      .poll(() => bobPage.getByTestId('error-notice').textContent(), WAIT)
      .toContain('No such job among yours');
    expect(await bobPage.getByText('portal e2e squares').count()).toBe(0);
    await shot(bobPage, 'second-user-job');
    await bobPage.goto('/groups');
    await expect.poll(() => bobPage.getByTestId('groups-empty').isVisible(), WAIT).toBe(true);
    await bobPage.goto(`/bank/${alice.bank}`);
    await expect.poll(() => bobPage.getByTestId('error-notice').isVisible(), WAIT).toBe(true);

    const r = bobPage.request;
    for (const path of [
      `/api/jobs/${alice.job}`,
      `/api/jobs/${alice.job}/trail`,
      `/api/jobs/${alice.job}/explain`,
      `/api/bank/accounts/${alice.bank}/history`,
    ]) {
      const res = await r.get(path);
      expect(res.status(), path).toBe(404);
      expect(await res.text()).not.toContain(alice.bank.slice(2));
    }
    expect(((await (await r.get('/api/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
    expect(((await (await r.get('/api/groups')).json()) as { groups: unknown[] }).groups).toEqual([]);
    expect((await r.post(`/api/jobs/${alice.job}/cancel`, { data: {} })).status()).toBe(404);
    expect((await r.post('/api/bank/faucet', { data: { address: alice.bank, amount: '1' } })).status()).toBe(
      404,
    );
    const groups = (await (await page.request.get('/api/groups')).json()) as {
      groups: { joinKey: string }[];
    };
    const aliceKey = groups.groups[0]?.joinKey ?? '';
    expect(aliceKey).not.toBe('');
    expect((await r.delete(`/api/groups/${aliceKey}`)).status()).toBe(404);
    expect((await r.delete(`/api/groups/${aliceKey}/jobs/${alice.groupJob}`)).status()).toBe(404);

    // the live socket answers bob's subscription to alice's job with ENOENT, and alice's with the job
    const subscribe = (p: Page, topic: string) =>
      p.evaluate(
        (t) =>
          new Promise<string>((resolve, reject) => {
            const ws = new window.WebSocket(`${location.origin.replace('http', 'ws')}/api/live`);
            const timer = setTimeout(() => reject(new Error('no answer')), 10_000);
            ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', topic: t }));
            ws.onmessage = (m) => {
              clearTimeout(timer);
              ws.close();
              resolve(String(m.data));
            };
            ws.onerror = () => reject(new Error('socket failed'));
          }),
        topic,
      );
    const bobSees = JSON.parse(await subscribe(bobPage, `job:${alice.job}`)) as {
      type: string;
      error?: { code: string };
    };
    expect(bobSees).toMatchObject({ type: 'error', error: { code: 'ENOENT' } });
    const aliceSees = JSON.parse(await subscribe(page, `job:${alice.job}`)) as {
      type: string;
      data?: { job: { id: string } };
    };
    expect(aliceSees.type).toBe('update');
    expect(aliceSees.data?.job.id).toBe(alice.job);
    // and without a session the socket is refused before it opens
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new NodeWebSocket(`${portal.url.replace('http', 'ws')}/api/live`);
      const timer = setTimeout(() => reject(new Error('no answer to the upgrade')), 10_000);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        clearTimeout(timer);
        ws.close();
        resolve(101);
      });
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);

    // alice deletes her group from the page (after confirming); the scheduler forgets it too
    page.once('dialog', (dialog) => void dialog.accept());
    await page.goto('/groups');
    await page.getByRole('button', { name: `Delete group ${aliceKey}` }).click();
    await expect.poll(() => page.getByTestId('groups-empty').isVisible(), WAIT).toBe(true);
    expect(await (await fetch(new URL('api/compute-groups', scheduler.url))).text()).not.toContain(aliceKey);
  }, 200_000);
  it("a keystore uploaded with another user's address grants nothing until its key is proven (UI, REST, state unchanged)", async () => {
    // alice deploys a job that keeps running while mallory tries
    const client = deploy(alice.home, 'portal e2e long', 30, 2_000);
    const running = (await client.waitFor(/ACCEPTED (\S+)/, 120_000))[1] as string;
    const schedulerJob = async () => {
      const res = await fetch(new URL(`api/jobs/${running}`, scheduler.url), {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { status: string };
    };
    expect((await schedulerJob()).status).toBe('running');

    const mallory = await (await browserContext()).newPage();
    await signUp(mallory, `mallory-${Date.now()}@example.test`);
    const r = mallory.request;
    // Forged v3 keystores: alice's addresses over mallory's own ciphertext (passphrase "x").
    const forge = async (kind: 'bank' | 'identity', address: string) => {
      const json = JSON.parse(
        await encryptKeystoreJson(new Wallet(Wallet.createRandom().privateKey), 'x', { scrypt: { N: 1024 } }),
      ) as Record<string, unknown>;
      const path = join(work, `forged-${kind}.keystore`);
      writeFileSync(path, JSON.stringify({ ...json, address: address.slice(2) }));
      return path;
    };
    const upload = mallory.locator('section', {
      has: mallory.getByRole('heading', { name: 'Upload a keystore' }),
    });
    const uploadFile = async (kind: 'bank' | 'identity', label: string, path: string, prove?: string) => {
      await upload.getByLabel(kind === 'bank' ? 'Bank account' : 'Identity').check();
      await upload.getByLabel('Label').fill(label);
      await upload.getByLabel('Keystore file').setInputFiles(path);
      const skip = upload.getByLabel(/Store without proving/);
      if (prove === undefined) await skip.check();
      else {
        await skip.uncheck();
        await upload.getByLabel('Passphrase').fill(prove);
      }
      await upload.getByRole('button', { name: 'Upload keystore' }).click();
    };
    const row = (label: string) => mallory.getByTestId('keystore-row').filter({ hasText: label });

    await mallory.goto('/keystores');
    // proving the forged file fails in the browser: its key is not the address it names; nothing is stored
    await uploadFile('bank', 'forged bank', await forge('bank', alice.bank), 'x');
    await expect
      .poll(() => upload.locator('#upload-passphrase-error').textContent(), WAIT)
      .toContain('not the address it records');
    expect(await mallory.getByTestId('keystore-row').count()).toBe(0);
    // stored without proof, both forged files are listed as unproven
    await uploadFile('bank', 'forged bank', await forge('bank', alice.bank));
    await expect.poll(() => row('forged bank').getAttribute('data-proven'), WAIT).toBe('false');
    await uploadFile('identity', 'forged id', await forge('identity', alice.identity));
    await expect.poll(() => row('forged id').getAttribute('data-proven'), WAIT).toBe('false');
    await expect.poll(() => mallory.getByTestId('keystore-unproven').count(), WAIT).toBe(2);
    await shot(mallory, 'keystores-unproven');

    const nothingOfAlice = async () => {
      expect(((await (await r.get('/api/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
      expect(
        ((await (await r.get('/api/bank/accounts')).json()) as { accounts: unknown[] }).accounts,
      ).toEqual([]);
      for (const path of [
        `/api/jobs/${running}`,
        `/api/jobs/${running}/trail`,
        `/api/bank/accounts/${alice.bank}/history`,
        `/api/bank/bridge/${alice.bank}`,
        `/worker/earnings/${alice.bank}`,
      ]) {
        const res = await r.get(path);
        expect(res.status(), path).toBe(404);
        expect(await res.text(), path).not.toContain(running);
      }
      const cancel = await r.post(`/api/jobs/${running}/cancel`, { data: {} });
      expect(cancel.status()).toBe(404);
      expect(
        (await r.post('/api/bank/faucet', { data: { address: alice.bank, amount: '1' } })).status(),
      ).toBe(404);
      const earnings = (await (await r.get('/api/workers')).json()) as { earnings: unknown[] };
      expect(earnings.earnings).toEqual([]);
    };
    await nothingOfAlice();
    await mallory.goto('/jobs');
    await expect.poll(() => mallory.getByTestId('jobs-empty').isVisible(), WAIT).toBe(true);
    await mallory.goto(`/jobs/${running}`);
    await expect
      .poll(() => mallory.getByTestId('error-notice').textContent(), WAIT)
      .toContain('No such job among yours');
    await mallory.goto(`/bank/${alice.bank}`);
    await expect.poll(() => mallory.getByTestId('error-notice').isVisible(), WAIT).toBe(true);
    // the scheduler's own record: still running, never cancelled
    expect((await schedulerJob()).status).toBe('running');

    // Proving over REST with her own key, or replaying: 403, still nothing.
    const listed = (await (await r.get('/api/keystores')).json()) as {
      keystores: { id: string; label: string; provenAt: string | null }[];
    };
    const forgedBank = listed.keystores.find((k) => k.label === 'forged bank');
    if (!forgedBank) throw new Error('the forged bank keystore is listed');
    const ask = async () =>
      (
        (await (await r.post('/api/keystores/challenges', { data: { address: alice.bank } })).json()) as {
          challenge: { id: string; message: string };
        }
      ).challenge;
    const c = await ask();
    const own = await Wallet.createRandom().signMessage(c.message);
    const refused = await r.post(`/api/keystores/${forgedBank.id}/proof`, {
      data: { challenge: c.id, signature: own },
    });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('EBADSIG');
    const again = await r.post(`/api/keystores/${forgedBank.id}/proof`, {
      data: { challenge: c.id, signature: own },
    });
    expect(again.status()).toBe(403);
    // an answer to alice's session's challenge cannot be carried over either
    const alicesChallenge = (
      (await (
        await page.request.post('/api/keystores/challenges', { data: { address: alice.bank } })
      ).json()) as {
        challenge: { id: string; message: string };
      }
    ).challenge;
    const carried = await r.post(`/api/keystores/${forgedBank.id}/proof`, {
      data: { challenge: alicesChallenge.id, signature: own },
    });
    expect(carried.status()).toBe(403);
    await nothingOfAlice();
    expect((await schedulerJob()).status).toBe('running');

    // The positive control: mallory gets alice's real identity keystore file (no passphrase). Stored
    // unproven it still grants nothing; proven from the list (unlocked in the page, challenge signed) it does.
    await mallory.goto('/keystores');
    await row('forged id').getByRole('button', { name: 'Delete forged id' }).click();
    await row('forged id').getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => row('forged id').count(), WAIT).toBe(0);
    const realId = join(work, 'alice-real-id.keystore');
    writeFileSync(realId, readFileSync(join(alice.home, '.dcp/id.keystore'), 'utf8'));
    await uploadFile('identity', 'real id', realId);
    await expect.poll(() => row('real id').getAttribute('data-proven'), WAIT).toBe('false');
    expect(((await (await r.get('/api/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
    await row('real id').getByRole('button', { name: 'Prove the key of real id' }).click();
    await mallory.getByLabel('Passphrase to prove real id').fill('');
    await mallory.getByRole('button', { name: 'Sign the challenge' }).click();
    await expect.poll(() => row('real id').getAttribute('data-proven'), WAIT).toBe('true');
    await expect
      .poll(() => mallory.getByTestId('keystore-notice').textContent(), WAIT)
      .toContain('Proved the key');
    await shot(mallory, 'keystores-proven');
    const granted = (await (await r.get('/api/jobs')).json()) as { jobs: { id: string }[] };
    expect(granted.jobs.map((j) => j.id)).toContain(running);
    expect((await r.get(`/api/jobs/${running}`)).status()).toBe(200);
    // the forged bank row is still unproven: alice's bank history stays closed
    expect((await r.get(`/api/bank/accounts/${alice.bank}/history`)).status()).toBe(404);

    // alice ends her job from her own session
    const cancelled = await page.request.post(`/api/jobs/${running}/cancel`, { data: {} });
    expect(await cancelled.json()).toEqual({ cancelled: true });
    await client.stop('SIGKILL');
  }, 300_000);
});
