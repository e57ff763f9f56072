import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultList, type FaultSpec } from '@dcp-emu/contracts';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Proc, startDcpWorker, startEvaluator, startScheduler } from '../scheduler/harness';
import { ensurePortalBuild, REPO, type RunningPortal, startPortal } from './portal-app';

/**
 * The stack's injected faults on the portal's jobs page, in Debian's Chromium, on a real scheduler
 * (its own process) and the unmodified dcp-worker 3.3.19: a fault added over the scheduler's REST API
 * shows on the page, its `fired` count and spent state follow live (no reload) as the worker's task
 * requests hit it, a fault scoped to someone else's job does not name the job, and once cleared
 * (`DELETE /admin/faults`: the portal has no notion of a stack admin, so it only shows them) the page
 * says there are none and `GET /admin/faults` is empty.
 */

const SHOTS = join(REPO, 'artifacts/screenshots');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
/** Upper bound for UI conditions (a busy machine makes them slower, not false). */
const WAIT = { timeout: 60_000, interval: 100 };
const ADMIN_TOKEN = randomBytes(16).toString('hex');

let scheduler: Proc & { url: string };
let evaluator: (Proc & { port: number }) | undefined;
let worker: (Proc & { home: string }) | undefined;
let portal: RunningPortal;
let work: string;
const contexts: BrowserContext[] = [];

async function admin(method: 'GET' | 'POST' | 'DELETE', body?: FaultSpec | Record<string, unknown>) {
  const r = await fetch(new URL('admin/faults', scheduler.url), {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.status, await r.clone().text()).toBeLessThan(300);
  return r.json() as Promise<unknown>;
}

async function browserPage(): Promise<Page> {
  const profile = mkdtempSync(join(work, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
    baseURL: portal.url,
  });
  context.setDefaultTimeout(30_000);
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  ensurePortalBuild();
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-faults-'));
  mkdirSync(join(work, 'scheduler'));
  scheduler = await startScheduler(join(work, 'scheduler'), { DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN });
  portal = await startPortal({
    DCP_EMU_SCHEDULER_URL: scheduler.url,
    DCP_EMU_PORTAL_LIVE_INTERVAL_MS: '250',
    DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN,
  });
}, 900_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await portal?.stop();
  await worker?.stop('SIGINT');
  if (worker) rmSync(worker.home, { recursive: true, force: true });
  await evaluator?.stop();
  await scheduler?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('injected faults on the portal', () => {
  it('a fault added over REST shows on the jobs page, fires live as dcp-worker asks for work, and is gone once cleared', async () => {
    const page = await browserPage();
    await page.goto('/signup');
    await page.getByLabel('Email').fill(`faults-${Date.now()}@example.test`);
    await page.getByLabel('Password', { exact: true }).fill('a long password 1');
    await page.getByLabel('Repeat the password').fill('a long password 1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/keystores');

    await page.goto('/jobs');
    await expect.poll(() => page.getByTestId('faults-empty').isVisible(), WAIT).toBe(true);

    // two faults over the scheduler's admin REST API: one on every task request, one on a job not the user's
    const foreignJob = `0x${'cd'.repeat(20)}`;
    await admin('POST', { kind: 'refuseTask', times: 2 });
    await admin('POST', { kind: 'crashWorker', afterSlices: 3, job: foreignJob });

    await page.goto('/jobs');
    await expect.poll(() => page.getByTestId('live-status').getAttribute('data-status'), WAIT).toBe('live');
    const refuse = page.locator('[data-testid=fault-row][data-kind=refuseTask]');
    const crash = page.locator('[data-testid=fault-row][data-kind=crashWorker]');
    await expect.poll(() => refuse.getByTestId('fault-fired').textContent(), WAIT).toBe('0');
    expect(await refuse.getAttribute('data-spent')).toBe('false');
    expect(await refuse.textContent()).toContain('answers task requests with no work');
    expect(await crash.textContent()).toContain("a job that isn't yours");
    expect(await crash.textContent()).toContain('after 3 accepted results, kills the worker');
    expect(await page.content()).not.toContain(foreignJob);
    await page.screenshot({ path: join(SHOTS, 'portal-faults.png'), fullPage: true });

    // the unmodified dcp-worker asks for work: its first two requests are refused; the page follows without a reload
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    evaluator = await startEvaluator();
    worker = await startDcpWorker(scheduler.url, evaluator.port, 1);
    await expect.poll(() => refuse.getAttribute('data-spent'), { ...WAIT, timeout: 120_000 }).toBe('true');
    expect(await refuse.getByTestId('fault-fired').textContent()).toBe('2');
    expect(await refuse.textContent()).toContain('spent');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await page.screenshot({ path: join(SHOTS, 'portal-faults-fired.png'), fullPage: true });

    // cleared (the scheduler's admin route: the portal shows faults, it does not manage them)
    expect(await admin('DELETE')).toEqual({ cleared: 2 });
    await expect.poll(() => page.getByTestId('faults-empty').isVisible(), WAIT).toBe(true);
    expect(await page.locator('[data-testid=fault-row]').count()).toBe(0);
    expect(faultList.parse(await admin('GET'))).toEqual({ faults: [] });
  });
});
