/**
 * Virtual time of a running stack, a thin client of the services' `/admin/time` routes (admin token):
 * `POST /admin/time {action: 'freeze' | 'resume' | 'advance', ms?}` on the scheduler and the bank,
 * `GET /admin/time` → `{now, frozen}` from the scheduler.
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
  const headers = { authorization: `Bearer ${o.adminToken}` };
  const services = [o.schedulerUrl, ...(o.bankUrl ? [o.bankUrl] : [])];
  const post = async (body: { action: 'freeze' | 'resume' | 'advance'; ms?: number }) => {
    await Promise.all(
      services.map(async (base) => {
        const res = await fetch(new URL('admin/time', base), {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
        if (!res.ok)
          throw new Error(`${base}admin/time ${body.action}: HTTP ${res.status} ${await res.text()}`);
      }),
    );
  };
  const state = async () => {
    const res = await fetch(new URL('admin/time', o.schedulerUrl), {
      headers,
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok) throw new Error(`${o.schedulerUrl}admin/time: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { now: number | string; frozen: boolean };
    return { now: typeof body.now === 'string' ? Date.parse(body.now) : body.now, frozen: body.frozen };
  };
  return {
    freeze: () => post({ action: 'freeze' }),
    resume: () => post({ action: 'resume' }),
    advance: (by) => post({ action: 'advance', ms: durationMs(by) }),
    now: async () => (await state()).now,
    state,
    available: async () => {
      try {
        const res = await fetch(new URL('admin/time', o.schedulerUrl), {
          headers,
          signal: AbortSignal.timeout(60_000),
        });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}
