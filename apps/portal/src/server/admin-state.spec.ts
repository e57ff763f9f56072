import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDriver, readMigrations, type SqlDriver } from '@dcp-emu/db';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminStateRoutes } from './admin-state';

let dir: string;
let live: SqlDriver;
let server: Server;
let base: string;

async function serve(token: string | undefined): Promise<void> {
  const routes = adminStateRoutes({ url: `file:${join(dir, 'portal.sqlite')}`, dataDir: dir, token });
  server = createServer((req, res) => {
    if (routes(req, res)) return;
    res.writeHead(404).end('next');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const call = (path: string, init: { token?: string; body?: unknown } = {}) =>
  fetch(`${base}${path}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      'content-type': 'application/json',
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

const users = async () =>
  (await live.query<{ email: string }>('SELECT email FROM "PortalUser" ORDER BY email')).map((r) => r.email);
const addUser = (email: string) =>
  live.query(
    `INSERT INTO "PortalUser" (id, email, "passwordHash", "createdAt", "updatedAt") VALUES (?, ?, 'x', 0, 0)`,
    [email, email],
  );

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-state-'));
  live = await openDriver({ provider: 'sqlite', target: join(dir, 'portal.sqlite') });
  await migrate(live, readMigrations('sqlite'));
});
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  await live.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('portal /admin/state (real HTTP on loopback, real SQLite file)', () => {
  it('without a token the routes do not exist (Next.js answers)', async () => {
    await serve(undefined);
    expect(await (await call('/admin/state')).text()).toBe('next');
  });

  it('needs the token, then saves, restores and clears the portal database', async () => {
    await serve('s3cret');
    expect((await call('/admin/state')).status).toBe(401);
    expect((await call('/admin/state', { token: 'wrong' })).status).toBe(401);
    const info = await (await call('/admin/state', { token: 's3cret' })).json();
    expect(info).toMatchObject({ provider: 'sqlite', snapshots: true, snapshotFile: 'portal.sqlite' });

    await addUser('a@x');
    const saved = await call('/admin/state/save', { token: 's3cret', body: { name: 'one' } });
    expect(saved.status).toBe(200);
    expect(existsSync(join(dir, 'snapshots', 'one', 'portal.sqlite'))).toBe(true);
    await addUser('b@x');
    const restored = await call('/admin/state/restore', { token: 's3cret', body: { name: 'one' } });
    expect(restored.status).toBe(200);
    expect(await users()).toEqual(['a@x']);
    expect((await call('/admin/state/clear', { token: 's3cret', body: {} })).status).toBe(200);
    expect(await users()).toEqual([]);
  });

  it('answers 404 with ENOSNAPSHOT for an unknown snapshot or a bad name', async () => {
    await serve('s3cret');
    const missing = await call('/admin/state/restore', { token: 's3cret', body: { name: 'nope' } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('ENOSNAPSHOT');
    const bad = await call('/admin/state/save', { token: 's3cret', body: { name: '../etc' } });
    expect(bad.status).toBe(404);
    expect((await call('/admin/state/other', { token: 's3cret', body: {} })).status).toBe(404);
  });
});
