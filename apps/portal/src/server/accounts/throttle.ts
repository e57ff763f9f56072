/**
 * Slows password guessing: after `maxFailures` failed sign-ins for one email within `windowMs`,
 * further attempts for it are refused for `lockMs` (doubling with each lock, up to `maxLockMs`).
 * A successful sign-in clears the record. Kept in memory: one portal process per stack.
 */
export interface SignInThrottle {
  /** ms to wait before the next attempt for `key`, or 0 */
  retryAfter(key: string, now: Date): number;
  failed(key: string, now: Date): void;
  succeeded(key: string): void;
}

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  maxLockMs: number;
  /** entries kept at most; the oldest are dropped first */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 60_000,
  maxLockMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface Entry {
  failures: number;
  firstFailure: number;
  locks: number;
  lockedUntil: number;
}

export function memoryThrottle(options: Partial<ThrottleOptions> = {}): SignInThrottle {
  const o = { ...DEFAULT_THROTTLE, ...options };
  const entries = new Map<string, Entry>();
  return {
    retryAfter(key, now) {
      const e = entries.get(key);
      return e ? Math.max(0, e.lockedUntil - now.getTime()) : 0;
    },
    failed(key, now) {
      const t = now.getTime();
      let e = entries.get(key);
      if (!e || t - e.firstFailure > o.windowMs) {
        e = { failures: 0, firstFailure: t, locks: e?.locks ?? 0, lockedUntil: 0 };
      }
      e.failures += 1;
      if (e.failures >= o.maxFailures) {
        e.lockedUntil = t + Math.min(o.lockMs * 2 ** e.locks, o.maxLockMs);
        e.locks += 1;
        e.failures = 0;
        e.firstFailure = t;
      }
      entries.delete(key);
      entries.set(key, e);
      if (entries.size > o.maxEntries) entries.delete(entries.keys().next().value as string);
    },
    succeeded(key) {
      entries.delete(key);
    },
  };
}
