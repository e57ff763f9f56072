import { describe, expect, it } from 'vitest';
import { EventOutbox } from './event-outbox';

/** A peer that answers when told to, recording what was sent and in which order. */
function peer() {
  const sent: number[] = [];
  const answers: ((taken: boolean) => void)[] = [];
  const send = (n: number) =>
    new Promise<boolean>((resolve) => {
      sent.push(n);
      answers.push(resolve);
    });
  const answer = async (k: number, taken = true) => {
    for (const a of answers.splice(0, k)) a(taken);
    await new Promise((r) => setImmediate(r));
  };
  return { sent, send, answer };
}

describe('EventOutbox', () => {
  it('keeps at most `window` pushes waiting for the peer, sends the rest in order as answers come', async () => {
    const p = peer();
    const box = new EventOutbox(p.send, 3);
    const results = Array.from({ length: 8 }, (_, i) => box.push(i));
    expect(p.sent).toEqual([0, 1, 2]);
    expect(box.inFlight).toBe(3);
    expect(box.backlog).toBe(5);
    await p.answer(2);
    expect(p.sent).toEqual([0, 1, 2, 3, 4]);
    await p.answer(3);
    await p.answer(3);
    expect(p.sent).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await Promise.all(results)).toEqual(Array(8).fill(true));
    expect(box.inFlight).toBe(0);
    expect(box.backlog).toBe(0);
  });

  it('a push made while a backlog waits goes behind it (nothing overtakes)', async () => {
    const p = peer();
    const box = new EventOutbox(p.send, 1);
    void box.push(1);
    void box.push(2);
    await p.answer(1);
    void box.push(3);
    await p.answer(1);
    await p.answer(1);
    expect(p.sent).toEqual([1, 2, 3]);
  });

  it('a refused or failed send counts as not taken and frees its place', async () => {
    const box = new EventOutbox(async (n: number) => {
      if (n === 1) throw new Error('session closed');
      return n !== 2;
    }, 1);
    expect(await Promise.all([box.push(1), box.push(2), box.push(3)])).toEqual([false, false, true]);
  });

  it('close() resolves the backlog false and refuses later pushes', async () => {
    const p = peer();
    const box = new EventOutbox(p.send, 2);
    const results = Array.from({ length: 5 }, (_, i) => box.push(i));
    box.close();
    await p.answer(2);
    expect(await Promise.all(results)).toEqual([true, true, false, false, false]);
    expect(await box.push(9)).toBe(false);
    expect(p.sent).toEqual([0, 1]);
  });

  it('a long backlog drains completely (compaction keeps the order)', async () => {
    const box = new EventOutbox(async (n: number) => n >= 0, 7);
    const all = await Promise.all(Array.from({ length: 5000 }, (_, i) => box.push(i)));
    expect(all.every(Boolean)).toBe(true);
    const order: number[] = [];
    const box2 = new EventOutbox(async (n: number) => {
      order.push(n);
      await new Promise((r) => setImmediate(r));
      return true;
    }, 16);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => box2.push(i)));
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('refuses a window below 1', () => {
    expect(() => new EventOutbox(async () => true, 0)).toThrow(RangeError);
  });
});
