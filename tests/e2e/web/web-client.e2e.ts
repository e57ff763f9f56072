import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClientKeystores } from '@dcp-emu/protocol/node';
import { cleanup, DCP_CLIENT, type Proc, ROOT, startOurWorker, startScheduler } from '@dcp-emu/testing';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SHOTS = join(ROOT, 'artifacts/screenshots');
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
const DCP_ORIGIN = 'https://scheduler.distributed.computer/';

/**
 * dcp-client's own web example, `examples/vanilla-web/simple-job.html`, unmodified but for the
 * origin of its one script tag (the scheduler's `/dcp-client/dcp-client.js`), served from another
 * loopback origin, in Debian's Chromium: the page loads dcp-client's loader, config and bundle from
 * the scheduler, asks for a keystore (uploaded in its dialog, as a user does), deploys its job to the
 * scheduler, our worker computes it, and the page logs the results.
 */
describe('dcp-client in a web page (vanilla-web/simple-job.html)', () => {
  let work: string;
  let scheduler: Proc & { url: string };
  let worker: Proc;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let keystore: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'dcp-emu-web-'));
    scheduler = await startScheduler(join(work, 'scheduler'));
    worker = await startOurWorker(scheduler.url, join(work, 'worker'));
    writeClientKeystores(join(work, 'keys'));
    keystore = join(work, 'keys', 'default.keystore');

    const original = readFileSync(join(DCP_CLIENT[5], 'examples/vanilla-web/simple-job.html'), 'utf8');
    expect(original.split(DCP_ORIGIN)).toHaveLength(2); // exactly one reference: the script's src
    expect(original).toContain(`<script src="${DCP_ORIGIN}dcp-client/dcp-client.js"></script>`);
    const page = original.replace(DCP_ORIGIN, scheduler.url);
    site = createServer((req, res) => {
      if (req.url !== '/simple-job.html') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    // another origin than the scheduler's (http://127.0.0.1:<port>/): another host name and port
    siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/simple-job.html`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (site ? site.close(r) : r(undefined)));
    await worker?.stop();
    await scheduler?.stop();
    cleanup(work);
  });

  it('deploys the page job to the scheduler and the page logs its results', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    const logs: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'log') logs.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(siteUrl);
      // the page's exec() asks for the bank account keystore: upload it in dcp-client's dialog
      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Browse' }).click();
      await (await chooser).setFiles(keystore);
      await expect
        .poll(() => logs.find((l) => l.startsWith('Job completed')), { timeout: 120_000, interval: 200 })
        .toBe('Job completed, here are the results:  [2, 4, 6, 8, 10]');
    } catch (e) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'web-client-failure.png') }).catch(() => undefined);
      throw new Error(`${(e as Error).message}\nconsole: ${logs.join('\n')}\nerrors: ${errors.join('\n')}`);
    }
    expect(logs.some((l) => /^Job accepted with id \w+/.test(l))).toBe(true);
    const results = logs.filter((l) => l.startsWith('Received result:'));
    expect(results).toHaveLength(5);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('serves the loader, the config script, the bundle and its assets to any origin, and nothing else', async () => {
    const get = (path: string) =>
      fetch(new URL(path, scheduler.url), {
        headers: { origin: 'http://localhost:1' },
        signal: AbortSignal.timeout(30_000),
      });
    const loader = await get('dcp-client/dcp-client.js');
    expect(loader.status).toBe(200);
    expect(loader.headers.get('access-control-allow-origin')).toBe('*');
    expect(await loader.text()).toBe(readFileSync(join(DCP_CLIENT[5], 'dcp-client.js'), 'utf8'));
    const config = await get('etc/dcp-config.js');
    expect(config.headers.get('content-type')).toMatch(/javascript/);
    const text = await config.text();
    expect(text).toContain(`var dcpConfig = {"scheduler": {"location": new URL("${scheduler.url}")`);
    const bundle = await get('dcp-client/dist/dcp-client-bundle.js');
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBe(
      readFileSync(join(DCP_CLIENT[5], 'dist/dcp-client-bundle.js')).byteLength,
    );
    for (const path of [
      'dcp-client/assets/dcp-client.css',
      'dcp-client/generated/worktimes.json',
      'kvin/kvin.js',
    ])
      expect((await get(path)).status, path).toBe(200);
    for (const path of [
      'dcp-client/package.json',
      'dcp-client/index.js',
      'dcp-client/%2e%2e/dcp-worker/package.json',
      'dcp-client/dist/..%2f..%2fpackage.json',
    ])
      expect((await get(path)).status, path).toBe(404);
  }, 120_000);
});
