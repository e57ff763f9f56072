import { timeControl } from '@dcp-emu/cli/lib/time-client';

/**
 * Virtual time of a running stack: the scheduler's and the bank's clocks driven together through
 * their `/admin/time` routes (admin token), by the same client as `dcp-emu time` (`timeControl`,
 * packages/cli/src/time-client.ts).
 */
export interface EmulatorClock {
  /** stop the services' clocks */
  freeze(): Promise<void>;
  /** let them run again (from where they are) */
  resume(): Promise<void>;
  /** move them forward: ms, or a duration such as '500ms', '30s', '10m', '1h' */
  advance(by: number | string): Promise<void>;
  /** the scheduler's time (ms since the epoch) */
  now(): Promise<number>;
  /** the scheduler's time and whether it is frozen */
  state(): Promise<{ now: number; frozen: boolean }>;
  /** whether the stack has the time routes (GET /admin/time answers) */
  available(): Promise<boolean>;
}

/** '500ms', '30s', '10m', '1h', '1d' or a number of ms → ms. */
export function durationMs(by: number | string): number {
  if (typeof by === 'number') {
    if (!Number.isFinite(by) || by < 0) throw new Error(`not a duration: ${by}`);
    return Math.round(by);
  }
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(by.trim());
  if (!m) throw new Error(`not a duration: "${by}" (e.g. 500ms, 30s, 10m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

export function emulatorClock(o: {
  schedulerUrl: string;
  bankUrl?: string;
  adminToken: string;
}): EmulatorClock {
  const urls: Record<string, string> = {
    scheduler: o.schedulerUrl,
    ...(o.bankUrl ? { bank: o.bankUrl } : {}),
  };
  const client = timeControl({ urls, adminToken: o.adminToken });
  const state = async () => {
    const s = await client.status();
    return { now: s.now, frozen: s.frozen };
  };
  return {
    freeze: async () => {
      await client.freeze();
    },
    resume: async () => {
      await client.resume();
    },
    advance: async (by) => {
      await client.advance(durationMs(by));
    },
    now: async () => (await state()).now,
    state,
    available: async () => {
      try {
        const res = await fetch(new URL('admin/time', o.schedulerUrl), {
          headers: { authorization: `Bearer ${o.adminToken}` },
          signal: AbortSignal.timeout(60_000),
        });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}
