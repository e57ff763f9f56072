import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Lint guard of the one Clock port: production sources of the services read the time and set
 * timers through a `Clock` (`ctx.clock.now()`, `clock.setTimeout(…)`, or `systemClock.…` where real
 * time is meant: transport, retries), never `Date.now()`, `new Date()`, `setTimeout(` or
 * `setInterval(` directly — so virtual time (`dcp-emu time`) reaches every timer that decides
 * behaviour. The few files below read real time on purpose, each for the reason given.
 */
const ROOT = resolve(__dirname, '../../..');
const GUARDED = ['apps/scheduler/src', 'apps/bank/src', 'apps/portal/src/server', 'packages/protocol/src'];
const ALLOWED: Record<string, string> = {
  'packages/protocol/src/clock.ts': 'the Clock adapters themselves',
  'packages/protocol/src/ports.ts': 'defer() and timer(): transport scheduling, real time',
  'packages/protocol/src/keystore.ts': "a keystore file's creation stamp and temporary file name",
  'packages/protocol/src/signed-request.ts': "the signing client's own time (a client, not a service)",
  'apps/portal/src/server/live': 'live-update polling of the browser pages: transport, real time',
};
const FORBIDDEN = /(?<![.\w])(Date\.now\(|new Date\(\)|setTimeout\(|setInterval\()/;

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test-support' && entry.name !== 'node_modules') yield* sources(path);
    } else if (/\.tsx?$/.test(entry.name) && !/\.(spec|test|fixture|e2e)\.tsx?$|\.d\.ts$/.test(entry.name))
      yield path;
  }
}

describe('the one Clock port', () => {
  it('is the only way production sources of the services read the time or set timers', () => {
    const offenders: string[] = [];
    let scanned = 0;
    for (const root of GUARDED)
      for (const file of sources(join(ROOT, root))) {
        const rel = relative(ROOT, file);
        if (Object.keys(ALLOWED).some((a) => rel === a || rel.startsWith(`${a}/`))) continue;
        scanned++;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
            if (FORBIDDEN.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    expect(scanned).toBeGreaterThan(100);
    expect(offenders, 'use the context Clock (or systemClock for real time) instead').toEqual([]);
  });
});
