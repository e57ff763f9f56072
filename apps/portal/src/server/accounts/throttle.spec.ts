import { describe, expect, it } from 'vitest';
import { memoryThrottle } from './throttle';

const at = (ms: number) => new Date(1_000_000 + ms);

describe('sign-in throttle', () => {
  it('locks an email after repeated failures, longer each time, and forgets it on success', () => {
    const t = memoryThrottle({ maxFailures: 3, windowMs: 10_000, lockMs: 1_000, maxLockMs: 3_000 });
    t.failed('a', at(0));
    t.failed('a', at(1));
    expect(t.retryAfter('a', at(2))).toBe(0);
    t.failed('a', at(2));
    expect(t.retryAfter('a', at(2))).toBe(1_000);
    expect(t.retryAfter('a', at(1_002))).toBe(0);
    expect(t.retryAfter('b', at(2))).toBe(0); // other emails are not affected

    for (const ms of [1_010, 1_020, 1_030]) t.failed('a', at(ms));
    expect(t.retryAfter('a', at(1_030))).toBe(2_000);
    for (const ms of [4_000, 4_010, 4_020]) t.failed('a', at(ms));
    expect(t.retryAfter('a', at(4_020))).toBe(3_000); // capped

    t.succeeded('a');
    expect(t.retryAfter('a', at(4_021))).toBe(0);
  });

  it('counts failures within the window only', () => {
    const t = memoryThrottle({ maxFailures: 2, windowMs: 100, lockMs: 1_000 });
    t.failed('a', at(0));
    t.failed('a', at(200));
    expect(t.retryAfter('a', at(200))).toBe(0);
    t.failed('a', at(250));
    expect(t.retryAfter('a', at(250))).toBe(1_000);
  });

  it('bounds its memory', () => {
    const t = memoryThrottle({ maxFailures: 1, lockMs: 1_000, maxEntries: 2 });
    t.failed('a', at(0));
    t.failed('b', at(0));
    t.failed('c', at(0));
    expect(t.retryAfter('a', at(0))).toBe(0);
    expect(t.retryAfter('c', at(0))).toBe(1_000);
  });
});
