import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Database, openDatabase } from '@dcp-emu/db';
import {
  attachDcpTarget,
  cryptoRandom,
  DcpInitiator,
  DcpTarget,
  Identity,
  OperationRegistry,
  silentLogger,
  systemClock,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openSchedulerState } from '../state/open-state';
import { defaultTuning } from '../config';
import { EventRouter, WAKE_INTERVAL_MS, WAKE_LABEL } from './event-router';

/** An event router served over DCP on loopback (its `subscribe` operation), like the scheduler's. */
async function serveRouter(router: EventRouter): Promise<{ location: URL; stop(): Promise<void> }> {
  const target = new DcpTarget({ identity: Identity.random(), logger: silentLogger });
  target.service(
    'eventRouter',
    new OperationRegistry().register({
      operation: 'subscribe',
      schema: z.object({ label: z.string(), options: z.record(z.string(), z.unknown()).optional() }),
      handler: (data, ctx) => ({
        token: router.subscribe(ctx.session, ctx.generation, data.label, data.options ?? {}),
      }),
    }),
  );
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const attached = attachDcpTarget(target, http);
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    location: target.locations(base, 5).eventRouter as URL,
    async stop() {
      await target.close();
      await attached.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A worker-side event-router session on loopback that records the events pushed to it. */
async function subscriber(location: URL, labels: string[]) {
  const initiator = new DcpInitiator({ location, identity: Identity.random(), logger: silentLogger });
  const events: { label: string; command: string }[] = [];
  const waiters = new Set<() => void>();
  initiator.on('request', (req) => {
    const data = req.data as { event: { data: { eventName: string; command: string } } };
    events.push({ label: data.event.data.eventName, command: data.event.data.command });
    req.respond('success');
    for (const w of [...waiters]) w();
  });
  const filter = { $or: [{ target: initiator.identity.address }, { broadcast: true }] };
  for (const label of labels) await initiator.request('subscribe', { label, options: { filter } });
  return {
    initiator,
    events,
    /** resolves once `n` events arrived (bounded) */
    received(n: number, timeoutMs = 30_000): Promise<void> {
      if (events.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${events.length} of ${n} events`)), timeoutMs);
        const check = () => {
          if (events.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}

describe('EventRouter.wakeWorkers over real DCP sessions', () => {
  let tdb: TestDatabase;
  let db: Database;
  let events: EventRouter;
  let served: Awaited<ReturnType<typeof serveRouter>>;
  let location: URL;

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    const { store } = await openSchedulerState({
      prisma: db.prisma,
      location: db.location,
      logger: silentLogger,
      leases: defaultTuning,
    });
    events = new EventRouter(store, systemClock, cryptoRandom, silentLogger);
    served = await serveRouter(events);
    location = served.location;
  }, 60_000);

  afterAll(async () => {
    await served?.stop();
    await db?.close();
    await tdb?.drop();
  });

  it('pushes "wake" only to workers that subscribed to schedmsg::wake, coalescing a burst into two pushes', async () => {
    const ours = await subscriber(location, ['schedmsg::broadcast', 'schedmsg::command', WAKE_LABEL]);
    // subscribes like the unmodified dcp-worker: an unknown command there would log a warning
    const dcpWorker = await subscriber(location, ['schedmsg::broadcast', 'schedmsg::command']);
    try {
      let woken = 0;
      for (let i = 0; i < 50; i++) woken += events.wakeWorkers();
      expect(woken).toBe(50); // 50 calls, one worker each time
      // one push at once, one at the end of the window for the other 49 calls
      await ours.received(2);
      expect(ours.events).toEqual([
        { label: WAKE_LABEL, command: 'wake' },
        { label: WAKE_LABEL, command: 'wake' },
      ]);
      await new Promise((r) => setTimeout(r, 4 * WAKE_INTERVAL_MS));
      expect(ours.events).toHaveLength(2);
      // a later wake-up goes out again, and SchedMsg commands still reach both
      events.wakeWorkers();
      await ours.received(3);
      expect(events.schedMsg('broadcast', 'announce', { message: 'hi' })).toBe(2);
      await ours.received(4);
      await dcpWorker.received(1);
      expect(ours.events[3]).toEqual({ label: 'schedmsg::broadcast', command: 'announce' });
      expect(dcpWorker.events).toEqual([{ label: 'schedmsg::broadcast', command: 'announce' }]);
    } finally {
      await ours.initiator.close();
      await dcpWorker.initiator.close();
    }
    // closed sessions are forgotten (once the target has seen them close)
    for (let i = 0; i < 300 && events.wakeWorkers() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(events.wakeWorkers()).toBe(0);
  }, 60_000);

  it("a job's stop waits for the results a new subscriber is being sent again (it never overtakes them)", async () => {
    // an in-memory event store: the port EventRouter needs
    const stored: {
      seq: number;
      jobId: string;
      name: string;
      data: Record<string, unknown>;
      delivered: boolean;
    }[] = [];
    const memory = {
      addEvent: async (jobId: string, name: string, data: Record<string, unknown>) => {
        const ev = { seq: stored.length + 1, jobId, name, data, delivered: false };
        stored.push(ev);
        return ev;
      },
      pendingEvents: async (jobId: string) => stored.filter((e) => e.jobId === jobId && !e.delivered),
      markDelivered: async (seq: number) => {
        const ev = stored.find((e) => e.seq === seq);
        if (ev) ev.delivered = true;
      },
    };
    const router = new EventRouter(memory, systemClock, cryptoRandom, silentLogger);
    const served = await serveRouter(router);
    // the result hook sends three results again, slowly (as a replay from the database would)
    router.onSubscribe('result', async (_job, deliver) => {
      for (const n of [1, 2, 3]) {
        await new Promise((r) => setTimeout(r, 150));
        await deliver({ sliceNumber: n });
      }
    });
    const client = new DcpInitiator({
      location: served.location,
      identity: Identity.random(),
      logger: silentLogger,
    });
    const got: string[] = [];
    client.on('request', (req) => {
      const ev = (req.data as { event: { data: { eventName: string; sliceNumber?: number } } }).event.data;
      got.push(ev.eventName === 'result' ? `result ${ev.sliceNumber}` : ev.eventName);
      req.respond('success');
    });
    try {
      const filter = { job: 'j-order' };
      await client.request('subscribe', { label: 'stop', options: { filter } });
      await client.request('subscribe', { label: 'result', options: { filter } });
      // the job stops while the results are still being sent again
      await router.emitReliable('j-order', 'stop', { reason: 'finished' });
      for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual(['result 1', 'result 2', 'result 3', 'stop']);
      expect(stored[0]?.delivered).toBe(true);
    } finally {
      await client.close();
      await served.stop();
    }
  }, 60_000);

  it('counts the events a connected client has not answered yet (the brake), not those of a dropped connection', async () => {
    const router = new EventRouter(
      {
        addEvent: async () => ({ seq: 0, jobId: 'j-b', name: 'result', data: {} }),
        pendingEvents: async () => [],
        markDelivered: async () => {},
      },
      systemClock,
      cryptoRandom,
      silentLogger,
    );
    const served = await serveRouter(router);
    const client = new DcpInitiator({
      location: served.location,
      identity: Identity.random(),
      logger: silentLogger,
    });
    const held: { respond: (v: unknown) => void }[] = [];
    client.on('request', (req) => held.push(req));
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(ok()).toBe(true);
    };
    try {
      await client.request('subscribe', { label: 'result', options: { filter: { job: 'j-b' } } });
      await new Promise((r) => setTimeout(r, 300)); // the subscription settles
      for (let n = 1; n <= 5; n++) router.emit('j-b', 'result', { sliceNumber: n });
      expect(router.backlog('j-b')).toBe(5);
      await until(() => held.length === 5);
      for (const req of held.splice(0, 2)) req.respond('success');
      await until(() => router.backlog('j-b') === 3);
      // the client's connection drops: its session lingers, but holds the job up no more
      for (const session of router.subscriberSessions('j-b')) session.dropLink();
      await until(() => router.backlog('j-b') === 0);
    } finally {
      await client.close().catch(() => {});
      await served.stop();
    }
  }, 60_000);
});
