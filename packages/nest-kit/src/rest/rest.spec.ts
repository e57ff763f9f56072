import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, signRequest } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../bootstrap';
import { owner, serveThings, TOKEN, type ThingsController } from './rest.fixture';
import { isLoopbackHost } from './rest-auth';

const stranger = Identity.random();
const serve = serveThings;

type Answer = {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
};

async function call(
  svc: RunningService,
  method: string,
  path: string,
  o: { body?: string; headers?: Record<string, string>; as?: Identity } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...(o.body ? { 'content-type': 'application/json' } : {}),
    ...o.headers,
  };
  if (o.as) Object.assign(headers, signRequest(o.as, { method, path, body: o.body }));
  const res = await fetch(new URL(path.slice(1), svc.listening.url), { method, headers, body: o.body });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('RestAuth and the REST error shape on a real service (loopback)', () => {
  let svc: RunningService;
  let ctl: ThingsController;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nest-kit-rest-'));
    mkdirSync(join(dataDir, 'sub'));
    writeFileSync(join(dataDir, 'sub', 'db.sqlite'), 'x', { mode: 0o644 });
    ({ svc, ctl } = await serve('127.0.0.1', dataDir));
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the started service made its data dir private', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'sub', 'db.sqlite')).mode & 0o777).toBe(0o600);
  });

  it('refuses a change without, or with wrong, credentials and changes nothing', async () => {
    const body = '{"n":1}';
    const answers = [
      await call(svc, 'POST', '/api/things/a/bump', { body }),
      await call(svc, 'POST', '/api/things/a/bump', { body, headers: { authorization: 'Bearer nope' } }),
      await call(svc, 'POST', '/api/things/a/bump', { body, headers: { 'x-dcp-signed-request': 'garbage' } }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body.error).toEqual({
        code: expect.stringMatching(/^(EPERM|EBADSIG)$/),
        message: expect.any(String),
      });
    }
    const foreign = await call(svc, 'POST', '/api/things/a/bump', { body, as: stranger });
    expect(foreign).toEqual({
      status: 403,
      body: { error: { code: 'EPERM', message: `${stranger.address} does not own thing a` } },
    });
    expect(ctl.counter).toBe(0);
  });

  it('the owner (signed) and the admin (token) change it; admin-only routes refuse the owner', async () => {
    expect(await call(svc, 'POST', '/api/things/a/bump', { body: '{}', as: owner })).toEqual({
      status: 201,
      body: { counter: 1 },
    });
    const admin = { authorization: `Bearer ${TOKEN}` };
    expect((await call(svc, 'POST', '/api/things/a/bump', { body: '{}', headers: admin })).status).toBe(201);
    expect((await call(svc, 'POST', '/api/admin', { as: owner })).status).toBe(403);
    expect((await call(svc, 'POST', '/api/admin')).status).toBe(401);
    expect((await call(svc, 'POST', '/api/admin', { headers: admin })).status).toBe(201);
    expect(ctl.counter).toBe(2);
  });

  it('reads are open on loopback', async () => {
    expect(await call(svc, 'GET', '/api/things/a')).toEqual({ status: 200, body: { counter: 2 } });
  });

  it('every error has the one shape: DcpError, unknown route, bad JSON, internal failure, 413', async () => {
    expect(await call(svc, 'GET', '/api/fail/dcp')).toEqual({
      status: 404,
      body: { error: { code: 'ENOENT', message: 'no such thing' } },
    });
    const route = await call(svc, 'GET', '/api/nowhere');
    expect(route.status).toBe(404);
    expect(route.body.error?.code).toBe('ENOENT');
    const internal = await call(svc, 'GET', '/api/fail/internal');
    expect(internal).toEqual({
      status: 500,
      body: { error: { code: 'EINTERNAL', message: 'internal error' } },
    });
    const bad = await call(svc, 'POST', '/api/admin', {
      body: '{"x":',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ code: 'EINVAL', message: expect.stringMatching(/JSON/) });
    const huge = await call(svc, 'POST', '/api/things/a/bump', {
      body: JSON.stringify({ x: 'y'.repeat(60 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.code).toBe('ETOOBIG');
    expect(ctl.counter).toBe(2);
  });
});

describe('RestAuth beyond loopback', () => {
  it('reads need the owner or the admin', async () => {
    const { svc } = await serve('0.0.0.0');
    try {
      expect((await call(svc, 'GET', '/api/things/a')).status).toBe(401);
      expect((await call(svc, 'GET', '/api/things/a', { as: stranger })).status).toBe(403);
      expect((await call(svc, 'GET', '/api/things/a', { as: owner })).status).toBe(200);
      expect(
        (await call(svc, 'GET', '/api/things/a', { headers: { authorization: `Bearer ${TOKEN}` } })).status,
      ).toBe(200);
    } finally {
      await svc.close();
    }
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.org']) expect(isLoopbackHost(h)).toBe(false);
  });
});
