/**
 * The Clock port's cost on the scheduler's hot path: `now()` calls per second of `Date.now()`, the
 * `systemClock` and a `VirtualClock` (running and frozen), and the time to advance a frozen clock by an
 * hour over the scheduler's timers (a 1 s lease sweeper and a 1 s abandoned-job sweep).
 * Prints numbers; asserts nothing.   npx tsx bench/protocol/clock.bench.ts
 */
import { type Clock, systemClock, VirtualClock } from '../../packages/protocol/src/clock';

function rate(label: string, fn: () => number): void {
  let sink = 0;
  const n = 5_000_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) sink += fn();
  const ms = performance.now() - start;
  console.log(
    `${label.padEnd(28)} ${(((n / ms) * 1000) / 1e6).toFixed(1).padStart(6)} M calls/s  (${((ms * 1e6) / n).toFixed(1)} ns/call)${sink === 0 ? ' ' : ''}`,
  );
}

const running: Clock = new VirtualClock();
const frozen = new VirtualClock({ frozenAt: Date.now() });
rate('Date.now()', () => Date.now());
rate('systemClock.now()', () => systemClock.now());
rate('VirtualClock.now() running', () => running.now());
rate('VirtualClock.now() frozen', () => frozen.now());

async function advanceFigure(): Promise<void> {
  const clock = new VirtualClock({ frozenAt: Date.now() });
  let fired = 0;
  clock.setInterval(() => fired++, 1_000);
  clock.setInterval(() => void Promise.resolve().then(() => fired++), 1_000);
  const start = performance.now();
  const s = await clock.advance(3_600_000);
  console.log(
    `advance 1h over two 1 s intervals: ${s.fired} timers fired in ${Math.round(performance.now() - start)} ms`,
  );
}

void advanceFigure();
