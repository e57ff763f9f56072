import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startDcpWorker,
  startEvaluator,
  startOurWorker,
  startScheduler,
  writePeerFile,
} from '@dcp-emu/testing';

const PUBLISH = join(ROOT, 'node_modules/dcp-util/bin/publish');
const CLIENT = join(__dirname, 'modules-client.cjs');

/** The packages, as files in the peer's home, published with `dcp-util publish package <desc>`. */
const PACKAGES: { name: string; files: Record<string, string> }[] = [
  { name: 'dcp-emu-base', files: { 'offset.js': 'exports.offset = 100;\n' } },
  {
    // plain CommonJS: a nested relative require (in a folder), module.exports, another package
    name: 'dcp-emu-cjs',
    files: {
      'square.js': [
        "const helper = require('./lib/helper');",
        "const { offset } = require('dcp-emu-base/offset');",
        'exports.square = (x) => helper.times(x, x) + offset;',
      ].join('\n'),
      'lib/helper.js': 'module.exports = { times: (a, b) => a * b }; // no newline at the end',
    },
  },
  {
    // a BravoJS module.declare module requiring a CommonJS one of its package
    name: 'dcp-emu-bravo',
    files: {
      'cube.js':
        "module.declare(['./square-of'], function (require, exports) {\n  const s = require('./square-of');\n  exports.cube = (x) => s.sq(x) * x;\n});\n",
      'square-of.js': 'exports.sq = (x) => x * x;\n',
    },
  },
  { name: 'dcp-emu-broken', files: { 'bad.js': 'exports.f = (x) => x +;\n' } },
];

async function finished(p: Proc, ms = 150_000): Promise<Record<string, unknown>[]> {
  await p.waitFor(/^OUT \{"(done|failed|fatal)"/m, ms);
  await Promise.race([p.exited, new Promise((r) => setTimeout(r, 15_000))]);
  return p.outputs();
}

/**
 * `job.requires()` modules published with dcp-util's `publish package` (CommonJS and BravoJS, nested
 * requires, a module requiring another package), run by our worker and by the unmodified dcp-worker
 * 3.3.19 on our evaluator; modules that cannot load reach the client as `error` events.
 */
describe('job.requires modules', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-modules-'));
  let scheduler: Proc & { url: string };
  let home: string;
  let client: string;

  beforeAll(async () => {
    scheduler = await startScheduler(dataDir);
    home = peerHome('dcp-emu-modules-');
    client = writePeerFile(home, 'modules-client.cjs', readFileSync(CLIENT, 'utf8'));
    for (const pkg of PACKAGES) {
      const files: Record<string, string> = {};
      for (const [name, text] of Object.entries(pkg.files)) {
        const local = `${pkg.name}-${name.replace(/\//g, '-')}`;
        writePeerFile(home, local, text);
        files[local] = name;
      }
      const desc = writePeerFile(
        home,
        `${pkg.name}.dcp`,
        JSON.stringify({ name: pkg.name, version: '1.0.0', files }),
      );
      const p = runClient(home, PUBLISH, { DCP_SCHEDULER_LOCATION: scheduler.url }, ['package', desc]);
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 90_000))]);
      expect(code, p.out).toBe(0);
      expect(p.out).toContain(`published package: ${pkg.name}@1.0.0`);
    }
  }, 600_000);

  afterAll(async () => {
    await scheduler?.stop();
    cleanup(dataDir, home);
  });

  function run(mode: string): Proc {
    return runClient(home, client, { DCP_SCHEDULER_LOCATION: scheduler.url, DCP_CLIENT_DIR: DCP_CLIENT[5] }, [
      mode,
    ]);
  }

  async function computes(mode = 'use'): Promise<void> {
    const out = await finished(run(mode));
    expect(out.find((o) => 'done' in o)?.done, JSON.stringify(out)).toEqual([
      { square: 101, cube: 1 },
      { square: 104, cube: 8 },
      { square: 109, cube: 27 },
    ]);
    expect(out.filter((o) => 'errorEvent' in o)).toEqual([]);
  }

  async function reportsError(mode: 'broken' | 'missing', pattern: RegExp): Promise<void> {
    const out = await finished(run(mode));
    const errors = out.filter((o) => 'errorEvent' in o).map((o) => o.errorEvent as { message: string });
    expect(errors.length, JSON.stringify(out)).toBeGreaterThan(0);
    expect(errors[0]?.message).toMatch(pattern);
    expect(
      out.find((o) => 'failed' in o),
      JSON.stringify(out),
    ).toBeTruthy();
  }

  it("runs them in dcp-client's own sandbox too (job.localExec: its BravoJS loads what we serve)", async () => {
    await computes('local');
  }, 180_000);

  describe('in our worker', () => {
    let worker: Proc;
    let workerDir: string;
    beforeAll(async () => {
      workerDir = mkdtempSync(join(tmpdir(), 'dcp-emu-modules-w-'));
      worker = await startOurWorker(scheduler.url, workerDir);
    }, 120_000);
    afterAll(async () => {
      await worker?.stop();
      cleanup(workerDir);
    });

    it('runs CommonJS and BravoJS modules with nested requires', () => computes(), 180_000);
    it('a module that does not load reaches the client as an error event', async () => {
      await reportsError('broken', /SyntaxError/);
    }, 180_000);
    it('a module nobody published reaches the client as an error event', async () => {
      await reportsError('missing', /dcp-emu-nowhere\/nothing/);
    }, 180_000);
  });

  describe('in the unmodified dcp-worker on our evaluator', () => {
    let evaluator: Proc & { port: number };
    let worker: Proc & { home: string };
    beforeAll(async () => {
      evaluator = await startEvaluator();
      worker = await startDcpWorker(scheduler.url, evaluator.port);
    }, 180_000);
    afterAll(async () => {
      await worker?.stop('SIGKILL');
      await evaluator?.stop();
      cleanup(worker?.home);
    });

    it('runs CommonJS and BravoJS modules with nested requires', () => computes(), 180_000);
    it('a module that does not load reaches the client as an error event', async () => {
      await reportsError('broken', /SyntaxError/);
    }, 180_000);
    it('a module nobody published reaches the client as an error event', async () => {
      await reportsError('missing', /ENOMODULE|ENOENT|dcp-emu-nowhere/);
    }, 180_000);
  });
});
