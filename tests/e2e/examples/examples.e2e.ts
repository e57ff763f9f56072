import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ROOT } from '@dcp-emu/testing';
import { describe, expect, it } from 'vitest';

/** This suite's environment without what belongs to its own runner (vitest's markers, NODE_OPTIONS). */
function exampleEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
  return env;
}

/** An example project's own test command (`npm test` in its directory), as a user runs it. */
function npmTest(example: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['test'], {
      cwd: join(ROOT, 'examples', example),
      env: exampleEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => resolve({ code, out: stripVTControlCharacters(out) }));
  });
}

describe('the example projects test their DCP app against startEmulator()', () => {
  it('examples/vitest-app: npm test (vitest)', async () => {
    const r = await npmTest('vitest-app');
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toMatch(/Tests\s+4 passed \(4\)/);
    expect(r.out).toMatch(/completes when the worker crashes mid-job/);
  }, 600_000);

  it('examples/jest-app: npm test (jest)', async () => {
    const r = await npmTest('jest-app');
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toMatch(/Tests:\s+4 passed, 4 total/);
    expect(r.out).toMatch(/✓ cannot deploy while the bank is down/);
  }, 600_000);
});
