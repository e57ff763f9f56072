import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as changePassword } from '../app/api/auth/password/route';
import { POST as signIn } from '../app/api/auth/signin/route';
import { POST as signOut } from '../app/api/auth/signout/route';
import { POST as signUp } from '../app/api/auth/signup/route';
import { GET as health } from '../app/api/health/route';
import { POST as proveKeystore } from '../app/api/keystores/[id]/proof/route';
import { DELETE as deleteKeystore, GET as downloadKeystore } from '../app/api/keystores/[id]/route';
import { POST as issueChallenge } from '../app/api/keystores/challenges/route';
import { GET as listKeystores, POST as saveKeystore } from '../app/api/keystores/route';
import { GET as ready } from '../app/api/ready/route';
import { GET as session } from '../app/api/session/route';
import { createKeystore } from '../lib/keystore/create';
import { resetPortal } from './portal';

/**
 * The REST API through the real route handlers, over a real SQLite file: what the browser and the
 * e2e test rely on (status codes, cookies, CSRF rules, per-user isolation).
 */

const ORIGIN = 'http://portal.test';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-api-'));
  process.env.DCP_EMU_DATA_DIR = dir;
  process.env.DCP_EMU_DATABASE_URL = `file:${join(dir, 'portal.sqlite')}`;
  process.env.DCP_EMU_PORTAL_PASSWORD_LOG2N = '10';
  delete process.env.DCP_EMU_PORTAL_SECURE_COOKIES;
});
afterAll(async () => {
  await resetPortal();
  rmSync(dir, { recursive: true, force: true });
});

function request(
  path: string,
  init: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { host: 'portal.test', ...init.headers };
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  return new Request(`${ORIGIN}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
}

const params = (id: string) => ({ params: Promise.resolve({ id }) });
const cookieOf = (r: Response) => (r.headers.get('set-cookie') ?? '').split(';')[0]!;

async function account(email: string): Promise<string> {
  const r = await signUp(request('/api/auth/signup', { body: { email, password: 'long password 1' } }));
  expect(r.status).toBe(201);
  return cookieOf(r);
}

describe('portal REST API', () => {
  it('GET /api/health and /api/ready answer ok', async () => {
    expect(await health().json()).toEqual({ status: 'ok' });
    const r = await ready();
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('sign-up sets an httpOnly SameSite=Lax session cookie (Secure only over https)', async () => {
    const r = await signUp(
      request('/api/auth/signup', { body: { email: 'Carol@Example.com', password: 'long password 1' } }),
    );
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ user: { id: expect.any(String), email: 'carol@example.com' } });
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^dcp_emu_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Expires=/);
    expect(cookie).not.toMatch(/Secure/);

    const https = await signIn(
      request('/api/auth/signin', {
        body: { email: 'carol@example.com', password: 'long password 1' },
        headers: { 'x-forwarded-proto': 'https' },
      }),
    );
    expect(https.status).toBe(200);
    expect(https.headers.get('set-cookie')).toMatch(/; Secure$/);

    const me = await session(request('/api/session', { cookie: cookieOf(r) }));
    expect(await me.json()).toMatchObject({ user: { email: 'carol@example.com' } });
  });

  it('answers errors with DCP codes and the field to fix', async () => {
    const dup = await signUp(
      request('/api/auth/signup', { body: { email: 'carol@example.com', password: 'long password 1' } }),
    );
    expect(dup.status).toBe(409);
    expect(await dup.json()).toEqual({
      error: { code: 'EDUP', message: expect.any(String), field: 'email' },
    });
    const bad = await signIn(
      request('/api/auth/signin', { body: { email: 'carol@example.com', password: 'nope' } }),
    );
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EPERM');
    const notJson = await signIn(request('/api/auth/signin', { body: '{oops' }));
    expect(notJson.status).toBe(400);
    const huge = await signUp(
      request('/api/auth/signup', { body: { email: 'a@b.co', password: 'x'.repeat(70_000) } }),
    );
    expect(huge.status).toBe(413);
    expect((await listKeystores(request('/api/keystores'))).status).toBe(401);
  });

  it('refuses cross-site and form-encoded mutations (CSRF)', async () => {
    const cookie = await account('dave@example.com');
    const made = await createKeystore({ kind: 'identity', passphrase: '', scryptN: 1024 });
    const body = { kind: 'identity', label: 'id', keystore: made.json };
    const crossSite = await saveKeystore(
      request('/api/keystores', { body, cookie, headers: { origin: 'http://evil.test' } }),
    );
    expect(crossSite.status).toBe(401);
    const form = await saveKeystore(
      request('/api/keystores', {
        body: 'kind=identity',
        cookie,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
    expect(form.status).toBe(400);
    const crossSignOut = await signOut(
      request('/api/auth/signout', { method: 'POST', cookie, headers: { origin: 'http://evil.test' } }),
    );
    expect(crossSignOut.status).toBe(401);
    const sameSite = await saveKeystore(
      request('/api/keystores', { body, cookie, headers: { origin: ORIGIN } }),
    );
    expect(sameSite.status).toBe(201);
  });

  it('stores, lists, downloads and deletes keystores per user only', async () => {
    const erin = await account('erin@example.com');
    const frank = await account('frank@example.com');
    const made = await createKeystore({ kind: 'bank', passphrase: 'pw', scryptN: 1024 });
    const saved = await saveKeystore(
      request('/api/keystores', { cookie: erin, body: { kind: 'bank', label: 'main', keystore: made.json } }),
    );
    expect(saved.status).toBe(201);
    const { keystore } = (await saved.json()) as { keystore: { id: string; address: string } };
    expect(keystore.address).toBe(made.address);

    const listed = (await (await listKeystores(request('/api/keystores', { cookie: erin }))).json()) as {
      keystores: { id: string }[];
    };
    expect(listed.keystores.map((k) => k.id)).toEqual([keystore.id]);
    expect(JSON.stringify(listed)).not.toContain(made.keystore.crypto.ciphertext); // lists carry no key material

    const file = await downloadKeystore(
      request(`/api/keystores/${keystore.id}`, { cookie: erin }),
      params(keystore.id),
    );
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="default.keystore"');
    expect(JSON.parse(await file.text())).toMatchObject({ address: made.address.slice(2), label: 'main' });

    expect(await (await listKeystores(request('/api/keystores', { cookie: frank }))).json()).toEqual({
      keystores: [],
    });
    const stolen = await downloadKeystore(
      request(`/api/keystores/${keystore.id}`, { cookie: frank }),
      params(keystore.id),
    );
    expect(stolen.status).toBe(404);
    const wiped = await deleteKeystore(
      request(`/api/keystores/${keystore.id}`, { method: 'DELETE', cookie: frank }),
      params(keystore.id),
    );
    expect(wiped.status).toBe(404);

    const gone = await deleteKeystore(
      request(`/api/keystores/${keystore.id}`, { method: 'DELETE', cookie: erin }),
      params(keystore.id),
    );
    expect(await gone.json()).toEqual({ deleted: keystore.id });
    expect(
      (
        await downloadKeystore(
          request(`/api/keystores/${keystore.id}`, { cookie: erin }),
          params(keystore.id),
        )
      ).status,
    ).toBe(404);
  });

  it('proves a stored keystore over REST: a challenge of this session signed by its key; others get 403/404', async () => {
    const hana = await account('hana@example.com');
    const ivan = await account('ivan@example.com');
    const made = await createKeystore({ kind: 'identity', passphrase: '', scryptN: 1024 });
    const saved = await saveKeystore(
      request('/api/keystores', {
        cookie: hana,
        body: { kind: 'identity', label: 'id', keystore: made.json },
      }),
    );
    const { keystore } = (await saved.json()) as { keystore: { id: string; provenAt: string | null } };
    expect(keystore.provenAt).toBeNull();
    const ask = async (cookie: string) => {
      const r = await issueChallenge(
        request('/api/keystores/challenges', { cookie, body: { address: made.address } }),
      );
      expect(r.status).toBe(201);
      return ((await r.json()) as { challenge: { id: string; message: string } }).challenge;
    };
    const prove = (cookie: string, body: unknown) =>
      proveKeystore(request(`/api/keystores/${keystore.id}/proof`, { cookie, body }), params(keystore.id));

    expect((await issueChallenge(request('/api/keystores/challenges', { body: {} }))).status).toBe(401);
    // ivan cannot prove hana's row, even holding a valid answer to his own challenge
    const his = await ask(ivan);
    expect((await prove(ivan, { challenge: his.id, signature: await made.sign(his.message) })).status).toBe(
      404,
    );
    // a challenge of hana's signed by another key: 403 EBADSIG; then the right answer proves, once
    const hers = await ask(hana);
    const answer = { challenge: hers.id, signature: await made.sign(hers.message) };
    const wrongSigner = await ask(hana);
    const bySomeoneElse = await prove(hana, {
      challenge: wrongSigner.id,
      signature: await (await createKeystore({ kind: 'identity', passphrase: '', scryptN: 1024 })).sign(
        wrongSigner.message,
      ),
    });
    expect(bySomeoneElse.status).toBe(403);
    expect(((await bySomeoneElse.json()) as { error: { code: string } }).error.code).toBe('EBADSIG');

    const proven = await prove(hana, answer);
    expect(proven.status).toBe(200);
    expect(((await proven.json()) as { keystore: { provenAt: string } }).keystore.provenAt).toEqual(
      expect.any(String),
    );
    const replay = await prove(hana, answer);
    expect(replay.status).toBe(403);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('EEXPIRED');
    const listed = (await (await listKeystores(request('/api/keystores', { cookie: hana }))).json()) as {
      keystores: { provenAt: string | null }[];
    };
    expect(listed.keystores.map((k) => typeof k.provenAt)).toEqual(['string']);
  });

  it('signs out (cookie cleared, session ended) and changes passwords', async () => {
    const cookie = await account('gina@example.com');
    const other = cookieOf(
      await signIn(
        request('/api/auth/signin', { body: { email: 'gina@example.com', password: 'long password 1' } }),
      ),
    );
    const changed = await changePassword(
      request('/api/auth/password', {
        cookie,
        body: { currentPassword: 'long password 1', newPassword: 'long password 2' },
      }),
    );
    expect(await changed.json()).toEqual({ changed: true, endedSessions: 1 });
    expect((await session(request('/api/session', { cookie: other }))).status).toBe(401);

    const out = await signOut(request('/api/auth/signout', { method: 'POST', cookie }));
    expect(out.headers.get('set-cookie')).toMatch(
      /^dcp_emu_session=; Path=\/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970/,
    );
    expect((await session(request('/api/session', { cookie }))).status).toBe(401);
    const back = await signIn(
      request('/api/auth/signin', { body: { email: 'gina@example.com', password: 'long password 2' } }),
    );
    expect(back.status).toBe(200);
  });
});
