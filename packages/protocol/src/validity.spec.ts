import { describe, expect, it } from 'vitest';
import { StampCache, validityError } from './node';

describe('validity stamps', () => {
  const now = 1_800_000_000;
  const check = (v: unknown, cache = new StampCache()) => validityError(v, now, cache)?.code ?? null;

  it('needs a stamp and a numeric time', () => {
    expect(check(undefined)).toBe('EINVAL');
    expect(check({ time: now })).toBe('EINVAL');
    expect(check({ stamp: 's', time: String(now) })).toBe('EINVAL');
    expect(check({ stamp: 's', time: now })).toBeNull();
  });

  it('refuses times beyond now + 600 s', () => {
    expect(check({ stamp: 'a', time: now + 600 })).toBeNull();
    expect(check({ stamp: 'b', time: now + 601 })).toBe('ETIMETRAVEL');
  });

  it('refuses time + ttl before now - 600 s, ttl clamped to 15..600 (default 120)', () => {
    expect(check({ stamp: 'a', time: now - 720, ttl: 120 })).toBeNull();
    expect(check({ stamp: 'b', time: now - 721, ttl: 120 })).toBe('EEXPIRED');
    expect(check({ stamp: 'c', time: now - 721 })).toBe('EEXPIRED'); // default 120
    expect(check({ stamp: 'd', time: now - 1200, ttl: 600 })).toBeNull();
    expect(check({ stamp: 'e', time: now - 1201, ttl: 10_000 })).toBe('EEXPIRED'); // max 600
    expect(check({ stamp: 'f', time: now - 615, ttl: 1 })).toBeNull(); // min 15
    expect(check({ stamp: 'g', time: now - 616, ttl: 1 })).toBe('EEXPIRED');
  });

  it('refuses a replayed stamp while it could still be valid, and forgets it afterwards', () => {
    const cache = new StampCache();
    expect(check({ stamp: 'same', time: now }, cache)).toBeNull();
    expect(check({ stamp: 'same', time: now + 1 }, cache)).toBe('EDUP');
    expect(cache.size).toBe(1);
    cache.prune(now + 120 + 601);
    expect(cache.size).toBe(0);
    const later = validityError({ stamp: 'same', time: now + 2000 }, now + 2000, cache);
    expect(later).toBeNull();
  });
});
