import { DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../result';
import { LiveSession, type ServerMessage } from './live-hub';

/** A reader whose answers the test sets, and a connection that records what was pushed. */
function harness(intervalMs = 5, maxTopics = 3) {
  const sent: ServerMessage[] = [];
  const answers = new Map<string, Result<unknown>>();
  const reads: string[] = [];
  const waiters: (() => void)[] = [];
  const session = new LiveSession(
    'user-1',
    {
      send: (m) => {
        sent.push(m);
        for (const w of waiters.splice(0)) w();
      },
    },
    {
      intervalMs,
      maxTopics,
      readerFor: (topic) => async (userId) => {
        reads.push(`${userId}:${topic}`);
        return answers.get(topic) ?? ok(null);
      },
    },
  );
  /** resolves at the next push (bounded) */
  const nextPush = () =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no push within 2 s')), 2_000);
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  /** resolves after `n` more reads (bounded) */
  const reads_ = async (n: number) => {
    const target = reads.length + n;
    const end = Date.now() + 2_000;
    while (reads.length < target) {
      if (Date.now() > end) throw new Error('reads stalled');
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  return { session, sent, answers, reads, nextPush, waitReads: reads_ };
}

describe('LiveSession', () => {
  it('pushes a topic at once, then only when its state changes', async () => {
    const h = harness();
    h.answers.set('jobs', ok([{ id: 'a', done: 1 }]));
    const first = h.nextPush();
    h.session.receive(JSON.stringify({ type: 'subscribe', topic: 'jobs' }));
    await first;
    expect(h.sent).toEqual([{ type: 'update', topic: 'jobs', data: [{ id: 'a', done: 1 }] }]);
    await h.waitReads(3);
    expect(h.sent).toHaveLength(1);
    expect(h.reads.every((r) => r === 'user-1:jobs')).toBe(true);
    const second = h.nextPush();
    h.answers.set('jobs', ok([{ id: 'a', done: 2 }]));
    await second;
    expect(h.sent.at(-1)).toEqual({ type: 'update', topic: 'jobs', data: [{ id: 'a', done: 2 }] });
    h.session.close();
  });

  it('pushes read errors with their code, once while they last', async () => {
    const h = harness();
    h.answers.set('job:x', fail(DcpErrorCode.ENOENT, 'no such job among yours'));
    const first = h.nextPush();
    h.session.subscribe('job:x');
    await first;
    await h.waitReads(2);
    expect(h.sent).toEqual([
      { type: 'error', topic: 'job:x', error: { code: 'ENOENT', message: 'no such job among yours' } },
    ]);
    h.session.close();
  });

  it('stops reading a topic once unsubscribed, and everything on close', async () => {
    const h = harness();
    const first = h.nextPush();
    h.session.subscribe('workers');
    await first;
    h.session.receive(JSON.stringify({ type: 'unsubscribe', topic: 'workers' }));
    expect(h.session.topics).toEqual([]);
    const before = h.reads.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(h.reads.length).toBe(before);
    h.session.subscribe('groups');
    h.session.close();
    h.session.subscribe('accounts');
    expect(h.session.topics).toEqual([]);
  });

  it('refuses unknown topics, malformed messages and too many topics', () => {
    const h = harness(1_000, 2);
    h.session.receive('not json');
    h.session.receive(JSON.stringify({ type: 'subscribe', topic: 'everything' }));
    h.session.receive(JSON.stringify({ type: 'subscribe', topic: 'job:../../etc' }));
    h.session.subscribe('jobs');
    h.session.subscribe('accounts');
    h.session.subscribe('workers');
    expect(h.sent.map((m) => (m.type === 'error' ? m.error.code : m.type))).toEqual([
      'EINVAL',
      'EINVAL',
      'EINVAL',
      'ETOOBIG',
    ]);
    expect(h.session.topics).toEqual(['jobs', 'accounts']);
    h.session.close();
  });
});
