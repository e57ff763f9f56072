import { z } from 'zod';

/**
 * The one Clock port of the emulator: what time it is, and timers on that time. Every timer that
 * decides behaviour (leases, abandoned jobs, …) goes through a Clock, so a `VirtualClock` can freeze
 * and advance it; transport timers (keep-alives, connect deadlines, retries) and sandbox CPU bounds
 * stay on real time (`systemClock`). This file is the only place that reads the system time for them.
 */

/** A pending timer of a Clock. */
export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (a method call, no allocation: hot paths call it often). */
  now(): number;
  /** Run `fn` once `ms` of this clock's time have passed. Never keeps a Node process alive. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Run `fn` every `ms` of this clock's time. Never keeps a Node process alive. */
  setInterval(fn: () => void, ms: number): ClockTimer;
}

type Handle = ReturnType<typeof setTimeout>;

function unref(h: Handle): Handle {
  (h as { unref?: () => void }).unref?.();
  return h;
}

/** Real time, real (unref'd) timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const h = unref(setTimeout(fn, ms));
    return { cancel: () => clearTimeout(h) };
  },
  setInterval(fn, ms) {
    const h = unref(setInterval(fn, ms));
    return { cancel: () => clearInterval(h) };
  },
};

/** What a controllable clock reports. */
export interface ClockStatus {
  /** the clock's time, ms since the epoch */
  now: number;
  /** ISO form of `now` */
  iso: string;
  /** true while frozen (time stands still until advanced or resumed) */
  frozen: boolean;
  /** the clock's time minus the real time, ms */
  offsetMs: number;
  /** timers waiting */
  timers: number;
}

/** The controls of virtual time (`/admin/time`, `dcp-emu time`). */
export interface TimeControl {
  status(): ClockStatus;
  /** Stop time. `at` (ms since the epoch) aligns this clock with another one; time never goes back. */
  freeze(at?: number): ClockStatus;
  /** Move time forward by `ms`: the timers due in that span fire, in order of their due time. */
  advance(ms: number): Promise<ClockStatus & { fired: number }>;
  /** Let time run again from where it stands (the offset to real time is kept). */
  resume(): ClockStatus;
}

interface Entry {
  readonly id: number;
  due: number;
  readonly fn: () => void;
  /** intervals: their period */
  readonly period: number;
  real?: Handle;
}

/** An interval fires at most this often in one advance; then it skips ahead to the end of the span. */
const MAX_INTERVAL_CATCH_UP = 1_000;

const defer = (): Promise<void> =>
  new Promise((resolve) => {
    const si = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
    if (si) si(resolve);
    else setTimeout(resolve, 0);
  });

/**
 * A Clock that runs with real time until told otherwise: `freeze()` stops it, `advance(ms)` moves it
 * forward firing the timers due in the span (in order, one macrotask apart so their async work can
 * run), `resume()` lets it run again. While running, `now()` is the real time plus an offset.
 */
export class VirtualClock implements Clock, TimeControl {
  #frozenAt: number | undefined;
  #offset: number;
  readonly #timers = new Map<number, Entry>();
  #seq = 0;
  /** advances run one at a time (an advance awaits between its timers) */
  #queue: Promise<unknown> = Promise.resolve();
  /** during an advance: whether the clock runs or stands once it is done (freeze/resume meanwhile) */
  #advancing: { resume: boolean } | undefined;
  /** a freeze(at) that came during an advance */
  #alignAt: number | undefined;

  constructor(options: { frozenAt?: number; offsetMs?: number } = {}) {
    this.#offset = options.offsetMs ?? 0;
    this.#frozenAt = options.frozenAt;
  }

  now(): number {
    return this.#frozenAt ?? Date.now() + this.#offset;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.#add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  get frozen(): boolean {
    return this.#frozenAt !== undefined;
  }

  status(): ClockStatus {
    const now = this.now();
    return {
      now,
      iso: new Date(now).toISOString(),
      frozen: this.frozen,
      offsetMs: now - Date.now(),
      timers: this.#timers.size,
    };
  }

  freeze(at?: number): ClockStatus {
    if (this.#advancing) {
      this.#advancing.resume = false;
      if (at !== undefined && Number.isFinite(at)) this.#alignAt = Math.max(this.#alignAt ?? at, at);
      return this.status();
    }
    const now = this.now();
    const to = at === undefined || !Number.isFinite(at) ? now : Math.max(now, at);
    if (!this.frozen) for (const e of this.#timers.values()) this.#disarm(e);
    this.#frozenAt = to;
    return this.status();
  }

  resume(): ClockStatus {
    if (this.#advancing) {
      this.#advancing.resume = true;
      return this.status();
    }
    if (this.#frozenAt === undefined) return this.status();
    this.#offset = this.#frozenAt - Date.now();
    this.#frozenAt = undefined;
    for (const e of this.#timers.values()) this.#arm(e);
    return this.status();
  }

  advance(ms: number): Promise<ClockStatus & { fired: number }> {
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(`cannot advance by ${ms} ms`));
    const run = this.#queue.then(() => this.#advance(ms));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #advance(ms: number): Promise<ClockStatus & { fired: number }> {
    const advancing = { resume: !this.frozen };
    this.freeze();
    this.#advancing = advancing;
    const target = (this.#frozenAt as number) + ms;
    const firedPer = new Map<number, number>();
    let fired = 0;
    let error: unknown;
    for (;;) {
      let next: Entry | undefined;
      for (const e of this.#timers.values())
        if (e.due <= target && (!next || e.due < next.due || (e.due === next.due && e.id < next.id)))
          next = e;
      if (!next) break;
      this.#frozenAt = Math.max(this.#frozenAt as number, next.due);
      if (next.period) {
        const n = (firedPer.get(next.id) ?? 0) + 1;
        firedPer.set(next.id, n);
        next.due += next.period;
        if (n >= MAX_INTERVAL_CATCH_UP && next.due <= target)
          next.due += Math.floor((target - next.due) / next.period) * next.period;
      } else this.#timers.delete(next.id);
      try {
        next.fn();
      } catch (e) {
        error ??= e;
      }
      fired++;
      await defer();
    }
    this.#frozenAt = Math.max(target, this.#alignAt ?? target);
    this.#alignAt = undefined;
    this.#advancing = undefined;
    if (advancing.resume) this.resume();
    if (error !== undefined) throw error;
    return { ...this.status(), fired };
  }

  #add(fn: () => void, ms: number, period: number): ClockTimer {
    const e: Entry = { id: ++this.#seq, due: this.now() + Math.max(0, ms || 0), fn, period };
    this.#timers.set(e.id, e);
    if (!this.frozen) this.#arm(e);
    return {
      cancel: () => {
        this.#disarm(e);
        this.#timers.delete(e.id);
      },
    };
  }

  #arm(e: Entry): void {
    this.#disarm(e);
    e.real = unref(setTimeout(() => this.#fire(e), Math.max(0, e.due - this.now())));
  }

  #disarm(e: Entry): void {
    if (e.real !== undefined) clearTimeout(e.real);
    e.real = undefined;
  }

  /** A real timer came due while the clock runs. */
  #fire(e: Entry): void {
    e.real = undefined;
    if (this.#timers.get(e.id) !== e || this.frozen) return;
    if (e.due > this.now()) {
      this.#arm(e); // the real timer fired a little early
      return;
    }
    if (e.period) {
      e.due = Math.max(e.due + e.period, this.now());
      this.#arm(e);
    } else this.#timers.delete(e.id);
    e.fn();
  }
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A duration: a number of milliseconds, or text like `10m`, `30s`, `1h30m`, `250ms`, `2d`, `1.5h`
 * (a bare number is milliseconds). Throws a RangeError on anything else.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a duration: ${value}`);
    return value;
  }
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /\s*(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|h|d|w)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (!text || end !== text.length)
    throw new RangeError(`not a duration: '${value}' (e.g. 10m, 30s, 1h, 250ms)`);
  return Math.round(total);
}

/** `POST /admin/time/freeze` body: `at` (ms since the epoch) aligns the clock with another service's. */
export const timeFreezeBody = z.object({ at: z.number().finite().nonnegative().optional() }).strict();

/** `POST /admin/time/advance` body: `by` a duration, `10m` or milliseconds. */
export const timeAdvanceBody = z
  .object({
    by: z.union([z.number().finite().nonnegative(), z.string().min(1).max(40)]),
  })
  .strict();

/** Every `/admin/time` answer. */
export const clockStatusSchema = z.object({
  now: z.number(),
  iso: z.string(),
  frozen: z.boolean(),
  offsetMs: z.number(),
  timers: z.number(),
  fired: z.number().optional(),
});
