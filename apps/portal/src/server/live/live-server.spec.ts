import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Portal } from '../portal';
import { endSession, SESSION_COOKIE, startSession } from '../sessions/sessions';
import { testPortal } from '../test-portal.fixture';
import { attachLive, SESSION_ENDED } from './live-server';

/** `/api/live` on a real HTTP server and a real SQLite portal: who may connect, what they get. */
let portal: Portal;
let dispose: () => Promise<void>;
let server: Server;
let live: ReturnType<typeof attachLive>;
let url: string;
const userId = randomUUID();

beforeAll(async () => {
  const made = await testPortal('sqlite');
  portal = made.portal;
  dispose = made.dispose;
  await portal.users.create({ id: userId, email: 'live@example.test', passwordHash: 'x' });
  live = attachLive(async () => portal, { intervalMs: 20, sessionCheckMs: 50 });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (!live.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/live`;
});

afterAll(async () => {
  live?.close();
  await new Promise<void>((r) => server?.close(() => r()));
  await dispose?.();
});

/** The HTTP status an upgrade is answered with (101 when the socket opens). */
function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

describe('/api/live', () => {
  it('refuses a browser without a live session (401) and another site (403)', async () => {
    expect(await upgradeStatus({})).toBe(401);
    expect(await upgradeStatus({ cookie: `${SESSION_COOKIE}=${'x'.repeat(43)}` })).toBe(401);
    const { token } = await startSession(portal, userId);
    expect(await upgradeStatus({ cookie: `${SESSION_COOKIE}=${token}`, origin: 'http://evil.example' })).toBe(
      403,
    );
    expect(await upgradeStatus({ cookie: `${SESSION_COOKIE}=${token}` })).toBe(101);
  });

  it("pushes the signed-in user's topic, then closes the socket when the session ends", async () => {
    const { token } = await startSession(portal, userId);
    const ws = new WebSocket(url, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    const messages: unknown[] = [];
    const first = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no push within 5 s')), 5_000);
      ws.on('message', (m) => {
        messages.push(JSON.parse(String(m)));
        clearTimeout(timer);
        resolve();
      });
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    ws.send(JSON.stringify({ type: 'subscribe', topic: 'groups' }));
    await first;
    expect(messages).toEqual([{ type: 'update', topic: 'groups', data: [] }]);
    await endSession(portal, token);
    const code = await Promise.race([
      closed,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('still open after 5 s')), 5_000)),
    ]);
    expect(code).toBe(SESSION_ENDED);
    // nothing was pushed again: the state did not change while it was followed
    expect(messages).toHaveLength(1);
  });
});
