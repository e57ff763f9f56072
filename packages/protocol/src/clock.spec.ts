import { describe, expect, it } from 'vitest';
import { parseDuration, systemClock, VirtualClock } from './clock';

const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('VirtualClock', () => {
  it('stands still while frozen and moves only by advance', async () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    expect(clock.now()).toBe(T0);
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.now()).toBe(T0);
    const s = await clock.advance(10 * 60_000);
    expect(clock.now()).toBe(T0 + 600_000);
    expect(s).toMatchObject({ now: T0 + 600_000, frozen: true, fired: 0 });
  });

  it('fires the timers due in the advanced span, in order of due time, each at its due time', async () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    const seen: [string, number][] = [];
    const at = (name: string) => () => seen.push([name, clock.now() - T0]);
    clock.setTimeout(at('c'), 3_000);
    clock.setTimeout(at('a'), 1_000);
    clock.setTimeout(at('late'), 60_000);
    clock.setTimeout(at('b'), 2_000);
    clock.setTimeout(at('a2'), 1_000);
    const cancelled = clock.setTimeout(at('cancelled'), 1_500);
    cancelled.cancel();
    const { fired } = await clock.advance(30_000);
    expect(seen).toEqual([
      ['a', 1_000],
      ['a2', 1_000],
      ['b', 2_000],
      ['c', 3_000],
    ]);
    expect(fired).toBe(4);
    expect(clock.now() - T0).toBe(30_000);
    expect(clock.status().timers).toBe(1);
    await clock.advance(30_000);
    expect(seen.at(-1)).toEqual(['late', 60_000]);
    expect(clock.status().timers).toBe(0);
  });

  it('fires intervals once per period of the span, and timers set by a firing timer when due in the span', async () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    const ticks: number[] = [];
    const iv = clock.setInterval(() => ticks.push(clock.now() - T0), 1_000);
    const chained: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => chained.push(clock.now() - T0), 500), 2_000);
    await clock.advance(3_500);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
    expect(chained).toEqual([2_500]);
    iv.cancel();
    await clock.advance(5_000);
    expect(ticks).toHaveLength(3);
  });

  it('lets async work of one timer run before the next fires', async () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    const log: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => log.push('first, after await'));
      log.push('first');
    }, 1_000);
    clock.setTimeout(() => log.push('second'), 2_000);
    await clock.advance(2_000);
    expect(log).toEqual(['first', 'first, after await', 'second']);
  });

  it('bounds the catch-up of a fast interval over a long span', async () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    let n = 0;
    clock.setInterval(() => n++, 1);
    await clock.advance(24 * 3_600_000);
    expect(n).toBeGreaterThanOrEqual(1_000);
    expect(n).toBeLessThan(1_010);
    expect(clock.now() - T0).toBe(24 * 3_600_000);
  });

  it('runs with real time until frozen, keeps its offset after resume, and real timers fire', async () => {
    const clock = new VirtualClock();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
    const fired = new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.now()), 5));
    expect(await fired).toBeGreaterThan(0);

    clock.freeze();
    const frozenAt = clock.now();
    let late = false;
    clock.setTimeout(() => {
      late = true;
    }, 10);
    await new Promise((r) => setTimeout(r, 40));
    expect(late).toBe(false); // real time passing does not fire a frozen clock's timers
    expect(clock.now()).toBe(frozenAt);

    await clock.advance(3_600_000);
    expect(late).toBe(true);
    clock.resume();
    expect(clock.status().frozen).toBe(false);
    expect(clock.now() - Date.now()).toBeGreaterThanOrEqual(3_600_000 - 100);
    const later = clock.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.now()).toBeGreaterThan(later); // running again
  });

  it('advances a running clock: due timers fire at once, the rest wait for real time', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('lease'), 60_000);
    clock.setTimeout(() => seen.push('later'), 3_600_000);
    const s = await clock.advance(120_000);
    expect(seen).toEqual(['lease']);
    expect(s.frozen).toBe(false);
    expect(s.offsetMs).toBeGreaterThanOrEqual(120_000 - 100);
    expect(clock.status().timers).toBe(1);
  });

  it('freezes at a given instant to agree with another clock, never going back', () => {
    const clock = new VirtualClock({ frozenAt: T0 });
    expect(clock.freeze(T0 + 5).now).toBe(T0 + 5);
    expect(clock.freeze(T0 - 1_000).now).toBe(T0 + 5);
  });

  it('applies a freeze or resume that comes during an advance once the advance is done', async () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => clock.freeze(), 1_000); // e.g. \`time freeze\` arriving mid-advance
    const s = await clock.advance(60_000);
    expect(s.frozen).toBe(true);
    const at = clock.now();
    clock.setTimeout(() => clock.resume(), 1_000);
    expect((await clock.advance(5_000)).frozen).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(at + 5_000);
  });

  it('refuses a negative advance', async () => {
    await expect(new VirtualClock().advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('systemClock', () => {
  it('tells real time and runs real timers', async () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
    const ms = await new Promise<number>((resolve) => {
      const start = Date.now();
      systemClock.setTimeout(() => resolve(Date.now() - start), 5);
    });
    expect(ms).toBeGreaterThanOrEqual(4);
    let n = 0;
    const t = systemClock.setInterval(() => n++, 1);
    await new Promise((r) => setTimeout(r, 30));
    t.cancel();
    const after = n;
    expect(after).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(n).toBe(after);
  });
});

describe('parseDuration', () => {
  it('reads the forms the CLI takes', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1h 30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1500')).toBe(1_500);
    expect(parseDuration(42)).toBe(42);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'm', '10x', '-5m', '10m garbage', 'ten minutes'])
      expect(() => parseDuration(bad)).toThrow(RangeError);
    expect(() => parseDuration(-1)).toThrow(RangeError);
    expect(() => parseDuration(Number.NaN)).toThrow(RangeError);
  });
});
