import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { durationMs, emulatorClock } from './clock';

/** A real HTTP server on loopback playing one service's /admin/time: records what it is sent. */
async function timeService(routes = true) {
  const seen: { method: string; path: string; auth?: string; body?: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d.toString();
    });
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
        ...(text ? { body: JSON.parse(text) } : {}),
      });
      if (!routes || !req.url?.startsWith('/admin/time')) {
        res.writeHead(404).end('{}');
        return;
      }
      const now = 1_700_000_000_000;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ now, iso: new Date(now).toISOString(), frozen: true, offsetMs: 0, timers: 0 }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe('emulatorClock: the /admin/time routes (as dcp-emu time drives them)', () => {
  it('freeze, advance and resume go to the scheduler and the bank with the admin token; now from the scheduler', async () => {
    const scheduler = await timeService();
    const bank = await timeService();
    open.push(scheduler, bank);
    const clock = emulatorClock({ schedulerUrl: scheduler.url, bankUrl: bank.url, adminToken: 'tok' });
    await clock.freeze();
    await clock.advance('10m');
    await clock.advance(250);
    await clock.resume();
    for (const s of [scheduler, bank])
      expect(s.seen.filter((r) => r.method === 'POST')).toEqual([
        // freeze where each stands, then all at the latest instant
        { method: 'POST', path: '/admin/time/freeze', auth: 'Bearer tok', body: {} },
        { method: 'POST', path: '/admin/time/freeze', auth: 'Bearer tok', body: { at: 1_700_000_000_000 } },
        { method: 'POST', path: '/admin/time/advance', auth: 'Bearer tok', body: { by: 600_000 } },
        { method: 'POST', path: '/admin/time/advance', auth: 'Bearer tok', body: { by: 250 } },
        { method: 'POST', path: '/admin/time/resume', auth: 'Bearer tok', body: {} },
      ]);
    expect(await clock.now()).toBe(1_700_000_000_000);
    expect(await clock.state()).toEqual({ now: 1_700_000_000_000, frozen: true });
    expect(await clock.available()).toBe(true);
    expect(bank.seen.filter((r) => r.method === 'GET')).toHaveLength(2); // status() asks every clocked service
  });

  it('a stack without the routes: available() is false and changes fail with the status', async () => {
    const scheduler = await timeService(false);
    open.push(scheduler);
    const clock = emulatorClock({ schedulerUrl: scheduler.url, adminToken: 'tok' });
    expect(await clock.available()).toBe(false);
    await expect(clock.freeze()).rejects.toThrow(/HTTP 404/);
  });

  it('durations', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('1.5h')).toBe(5_400_000);
    expect(durationMs(7)).toBe(7);
    expect(() => durationMs('later')).toThrow();
    expect(() => durationMs(-1)).toThrow();
  });
});
