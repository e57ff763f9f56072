import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptKeystoreJson, encryptKeystoreJson, Wallet } from 'ethers';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePortalBuild, REPO, type RunningPortal, startPortal } from './portal-app';

/**
 * The portal end to end, in Debian's Chromium: sign up, make keystores in the browser, download
 * them, prove the unmodified dcp-client loads the files, sign out and in, and check that a second
 * user can see none of it (UI and API).
 */

const SHOTS = join(REPO, 'artifacts/screenshots');
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

/** Upper bound for UI conditions (scrypt in the browser and page loads are slow on a busy machine). */
const WAIT = { timeout: 20_000, interval: 100 };

let portal: RunningPortal;
let work: string;
const contexts: BrowserContext[] = [];

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

async function signUp(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/keystores');
}

/** Fills the create form and waits for the success notice. */
async function createInBrowser(
  page: Page,
  kind: 'Identity' | 'Bank account',
  label: string,
  passphrase: string | null,
) {
  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Create a keystore' }) });
  await form.getByLabel(kind).check();
  await form.getByLabel('Label').fill(label);
  if (passphrase === null) {
    await form.getByLabel(/No passphrase/).check();
  } else {
    await form.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await form.getByLabel('Repeat the passphrase').fill(passphrase);
  }
  await form.getByRole('button', { name: 'Create keystore' }).click();
  await expect
    .poll(() => page.getByTestId('keystore-notice').textContent(), { ...WAIT, timeout: 30_000 })
    .toContain(`"${label}"`);
}

/** Clicks a download control and returns the file's name and content. */
async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = join(work, `dl-${Date.now()}-${file.suggestedFilename()}`);
  await file.saveAs(path);
  return { name: file.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

/** Loads <dir>/id.keystore and <dir>/default.keystore with the real dcp-client wallet in a fresh process. */
function loadWithDcpClient(dir: string, passphrase: string): { id: string; bank: string } {
  const script = `
    (async () => {
      const dcp = require('dcp-client');
      await dcp.init({ dcpConfig: { scheduler: { configLocation: false, location: new URL('http://127.0.0.1:9/') } } });
      const wallet = require('dcp/wallet');
      wallet.passphrasePrompt = async () => process.env.PASSPHRASE;
      const id = await wallet.getId();
      await id.unlock(process.env.PASSPHRASE, 10, true);
      const idKey = await id.getPrivateKey();
      const bank = await wallet.get();
      await bank.unlock('', 10, true);
      const bankKey = await bank.getPrivateKey();
      const { Wallet } = require('ethers');
      console.log(JSON.stringify({ id: new Wallet(String(idKey)).address, bank: new Wallet(String(bankKey)).address }));
      process.exit(0);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: REPO,
    env: { ...process.env, DCP_RESOURCE_DIR: dir, HOME: dir, PASSPHRASE: passphrase },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const parsed = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { id: string; bank: string };
  return { id: parsed.id.toLowerCase(), bank: parsed.bank.toLowerCase() };
}

beforeAll(async () => {
  ensurePortalBuild();
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-e2e-'));
  portal = await startPortal();
}, 600_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await portal?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('portal: accounts and keystores in a real browser', () => {
  const alice = { email: `alice-${Date.now()}@example.test`, password: 'alice password 1' };
  const bob = { email: `bob-${Date.now()}@example.test`, password: 'bob password 22' };
  const idPassphrase = 'id pass phrase';
  let aliceIds: string[] = [];
  let aliceIdentity = '';

  it('answers health and readiness', async () => {
    expect(await (await fetch(`${portal.url}/api/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${portal.url}/api/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('signs up, creates keystores in the browser and downloads files dcp-client accepts', async () => {
    const page = await (await browserContext()).newPage();
    await page.goto('/');
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT)
      .toBe('Your local DCP network');
    await shot(page, 'home');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

    await page.goto('/signup');
    await shot(page, 'signup');
    await signUp(page, alice.email, alice.password);
    await expect.poll(() => page.getByTestId('keystores-empty').isVisible(), WAIT).toBe(true);
    await expect.poll(() => page.getByTestId('signed-in-email').textContent(), WAIT).toBe(alice.email);
    await shot(page, 'keystores-empty');

    // Error state: no passphrase and no "No passphrase" tick → told what to do, focus on the field.
    const create = page.locator('section', { has: page.getByRole('heading', { name: 'Create a keystore' }) });
    await create.getByRole('button', { name: 'Create keystore' }).click();
    await expect
      .poll(() => create.locator('.field-error').first().textContent(), WAIT)
      .toContain('Enter a passphrase, or tick "No passphrase"');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), WAIT).toBe('create-passphrase');
    expect(await page.getByTestId('keystore-row').count()).toBe(0);

    await createInBrowser(page, 'Identity', 'alice id', idPassphrase);
    const idFile = await download(page, () =>
      page.getByRole('button', { name: 'Download id.keystore' }).click(),
    );
    expect(idFile.name).toBe('id.keystore');

    await createInBrowser(page, 'Bank account', 'alice bank', null);
    const bankFile = await download(page, () =>
      page.getByRole('button', { name: 'Download default.keystore' }).click(),
    );
    expect(bankFile.name).toBe('default.keystore');
    await expect.poll(() => page.getByTestId('keystore-row').count(), WAIT).toBe(2);
    await shot(page, 'keystores');

    // Valid v3 keystores: ethers decrypts them with the passphrases typed in the browser.
    const idAccount = await decryptKeystoreJson(idFile.text, idPassphrase);
    const bankAccount = await decryptKeystoreJson(bankFile.text, '');
    aliceIdentity = idAccount.address.toLowerCase();
    const rows = await page
      .getByTestId('keystore-row')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-address')));
    expect(rows.sort()).toEqual([aliceIdentity, bankAccount.address.toLowerCase()].sort());
    expect(JSON.parse(idFile.text)).toMatchObject({
      version: 3,
      label: 'alice id',
      crypto: { kdf: 'scrypt' },
    });

    // The unmodified dcp-client loads both files from its resource directory.
    const dcpDir = join(work, 'dcp-home');
    mkdirSync(dcpDir);
    writeFileSync(join(dcpDir, idFile.name), idFile.text);
    writeFileSync(join(dcpDir, bankFile.name), bankFile.text);
    expect(loadWithDcpClient(dcpDir, idPassphrase)).toEqual({
      id: aliceIdentity,
      bank: bankAccount.address.toLowerCase(),
    });

    // The list's download link serves the same keystore from the server.
    const row = page.getByTestId('keystore-row').filter({ hasText: 'alice id' });
    const again = await download(page, () => row.getByRole('link', { name: /Download/ }).click());
    expect(again.name).toBe('id.keystore');
    expect(JSON.parse(again.text)).toEqual(JSON.parse(idFile.text));

    // Passphrase check happens in the browser.
    await row.getByRole('button', { name: /Check the passphrase/ }).click();
    await page.getByRole('textbox', { name: 'Passphrase of alice id' }).fill('not it');
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect
      .poll(() => page.getByText('That passphrase does not unlock this keystore.').isVisible(), WAIT)
      .toBe(true);
    await page.getByRole('textbox', { name: 'Passphrase of alice id' }).fill(idPassphrase);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect.poll(() => page.getByText('The passphrase is right').isVisible(), WAIT).toBe(true);

    // Upload a keystore made elsewhere (ethers, geth-style "Crypto").
    const foreign = new Wallet(Wallet.createRandom().privateKey);
    const foreignPath = join(work, 'foreign.json');
    writeFileSync(foreignPath, await encryptKeystoreJson(foreign, 'x', { scrypt: { N: 1024 } }));
    const upload = page.locator('section', { has: page.getByRole('heading', { name: 'Upload a keystore' }) });
    await upload.getByLabel('Bank account').check();
    await upload.getByLabel('Label').fill('imported');
    await upload.getByLabel('Keystore file').setInputFiles(foreignPath);
    // the passphrase unlocks it here to sign the portal's challenge: it is stored proven
    await upload.getByLabel('Passphrase').fill('x');
    await upload.getByRole('button', { name: 'Upload keystore' }).click();
    await expect.poll(() => page.getByTestId('keystore-row').count(), WAIT).toBe(3);
    expect(
      await page
        .locator(`[data-testid=keystore-row][data-address="${foreign.address.toLowerCase()}"]`)
        .getAttribute('data-proven'),
    ).toBe('true');
    // so are the keystores created in the page
    expect(await page.getByTestId('keystore-unproven').count()).toBe(0);
    // A file that is not a keystore is refused with a message next to the file input.
    const junk = join(work, 'junk.keystore');
    writeFileSync(junk, '{"hello":"world"}');
    await upload.getByLabel('Keystore file').setInputFiles(junk);
    await upload.getByRole('button', { name: 'Upload keystore' }).click();
    await expect
      .poll(() => upload.locator('.field-error').textContent(), WAIT)
      .toContain('not a keystore dcp-client can read');
    await shot(page, 'keystores-upload');

    const listed = (await (await page.request.get('/api/keystores')).json()) as {
      keystores: { id: string }[];
    };
    aliceIds = listed.keystores.map((k) => k.id);
    expect(aliceIds).toHaveLength(3);
  });

  it('signs out and back in, and changes the password', async () => {
    const context = contexts[0]!;
    const page = await context.newPage();
    await page.goto('/keystores');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/signin');
    expect((await page.request.get('/api/keystores')).status()).toBe(401);
    await page.goto('/keystores');
    await page.waitForURL(
      (url) => url.pathname === '/signin' && url.searchParams.get('next') === '/keystores',
    );

    await page.getByLabel('Email').fill(alice.email);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#auth-error').textContent(), WAIT).toContain('do not match');
    await shot(page, 'signin-error');
    // Keyboard only: from the email field, Tab to the password, Enter submits.
    await page.getByLabel('Password').fill('');
    await page.getByLabel('Email').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/keystores');
    await expect.poll(() => page.getByTestId('keystore-row').count(), WAIT).toBe(3);

    await page.getByRole('link', { name: 'Account' }).click();
    await page.waitForURL('**/account');
    await page.getByLabel('Current password').fill(alice.password);
    await page.getByLabel('New password', { exact: true }).fill('alice password 2');
    await page.getByLabel('Repeat the new password').fill('alice password 2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByText('Password changed.').isVisible(), WAIT).toBe(true);
    await shot(page, 'account');
    const old = await fetch(`${portal.url}/api/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alice),
    });
    expect(old.status).toBe(401);
    alice.password = 'alice password 2';
  });

  it("keeps a second user away from the first user's keystores (UI and API)", async () => {
    const page = await (await browserContext()).newPage();
    await signUp(page, bob.email, bob.password);
    await expect.poll(() => page.getByTestId('keystores-empty').isVisible(), WAIT).toBe(true);
    expect(await page.getByText(aliceIdentity).count()).toBe(0);
    await shot(page, 'second-user');

    const list = (await (await page.request.get('/api/keystores')).json()) as { keystores: unknown[] };
    expect(list.keystores).toEqual([]);
    for (const id of aliceIds) {
      const got = await page.request.get(`/api/keystores/${id}`);
      expect(got.status()).toBe(404);
      expect(await got.text()).not.toContain(aliceIdentity.slice(2));
      expect((await page.request.delete(`/api/keystores/${id}`)).status()).toBe(404);
    }
    // Alice still has all three.
    const signin = await fetch(`${portal.url}/api/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alice),
    });
    expect(signin.status).toBe(200);
    const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0]!;
    const mine = (await (await fetch(`${portal.url}/api/keystores`, { headers: { cookie } })).json()) as {
      keystores: unknown[];
    };
    expect(mine.keystores).toHaveLength(3);
  });
});
