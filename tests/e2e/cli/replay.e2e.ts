import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup,
  DCP_CLIENT,
  peerHome,
  type Proc,
  ROOT,
  runClient,
  startOurWorker,
  startScheduler,
  tempDir,
  writePeerFile,
} from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/**
 * `dcp-emu replay <jobId> <slice>` against real parts: the scheduler (its own process), our worker,
 * jobs deployed by the unmodified dcp-client 5.6.1 (console.log, progress, an argument, a module
 * published with dcp-util) — the replay prints what the worker produced, a failing slice the same
 * error with a stack naming the work function's line; `--inspect` runs under Node's inspector.
 */

const ADMIN_TOKEN = 'replay-e2e-admin-token';
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const PUBLISH = join(ROOT, 'node_modules/dcp-util/bin/publish');

// one dcp-client program; mode from argv[2]; prints `OUT {json}` lines
const JOB_SCRIPT = `require(${JSON.stringify(DCP_CLIENT[5])}).init().then(async () => {
  const compute = require('dcp/compute');
  const out = (o) => console.log('OUT ' + JSON.stringify(o));
  const mode = process.argv[2];
  let job;
  if (mode === 'ok') {
    job = compute.for([1, 2, 3], (x, factor) => {
      console.log('squaring', x);
      progress(0.5);
      const { triple } = require('dcp-emu-replay-pkg/triple');
      progress(1);
      return { x, value: x * x * factor, tripled: triple(x) };
    }, [10]);
    job.requires('dcp-emu-replay-pkg/triple');
  } else {
    job = compute.for([1, 2, 3], function (x) {
      progress(1);
      if (x === 2) {
        throw new RangeError('no twos here: ' + x);
      }
      return x;
    });
  }
  job.public.name = 'replay ' + mode;
  job.on('accepted', () => out({ job: job.id }));
  job.on('error', (ev) => {
    out({ errorEvent: { message: String(ev.message), stack: String(ev.stack || ''), slice: ev.sliceNumber } });
    if (mode === 'throws') job.cancel('seen').catch(() => {});
  });
  try {
    const r = await job.exec(compute.marketRate);
    out({ done: Array.from(r) });
  } catch (e) {
    out({ failed: String(e && e.message) });
  }
  process.exit(0);
}).catch((e) => { console.log('FATAL ' + (e && e.stack)); process.exit(2); });
`;

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI against the stack dir, to its end (bounded generously: a busy machine is slow). */
function cli(stackDir: string, args: string[], onErr?: (text: string) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--data-dir', stackDir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      onErr?.(err);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dcp-emu ${args.join(' ')} timed out:\n${out}\n${err}`));
    }, 180_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('dcp-emu replay (scheduler, our worker, dcp-client 5.6.1)', () => {
  let scheduler: Proc & { url: string };
  let worker: Proc;
  let dataDir: string;
  let stackDir: string;
  let home: string;
  const clients: Proc[] = [];
  const ok: { id?: string; results?: unknown[] } = {};
  const throws: { id?: string; error?: { message: string; stack: string; slice: number } } = {};

  const deploy = (mode: string) => {
    const client = runClient(home, join(home, 'job.cjs'), { DCP_SCHEDULER_LOCATION: scheduler.url }, [mode]);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dataDir = tempDir('dcp-emu-replay-');
    scheduler = await startScheduler(join(dataDir, 'scheduler'), { DCP_EMU_ADMIN_TOKEN: ADMIN_TOKEN });
    home = peerHome('dcp-emu-replay-home-');
    writePeerFile(home, 'job.cjs', JOB_SCRIPT);
    writePeerFile(home, 'triple.js', 'exports.triple = (x) => 3 * x;\n');
    const desc = writePeerFile(
      home,
      'pkg.dcp',
      JSON.stringify({ name: 'dcp-emu-replay-pkg', version: '1.0.0', files: { 'triple.js': 'triple.js' } }),
    );
    const publish = runClient(home, PUBLISH, { DCP_SCHEDULER_LOCATION: scheduler.url }, ['package', desc]);
    clients.push(publish);
    expect(await publish.exited, publish.out).toBe(0);
    worker = await startOurWorker(scheduler.url, join(dataDir, 'worker'), { cores: 1 });

    // the CLI finds the scheduler through a stack file, as with `dcp-emu up`
    stackDir = join(dataDir, 'stack');
    mkdirSync(stackDir, { recursive: true });
    writeFileSync(
      join(stackDir, 'stack.json'),
      JSON.stringify({
        pid: process.pid,
        startedAt: new Date().toISOString(),
        dataDir: stackDir,
        resourceDir: stackDir,
        homeDir: stackDir,
        urls: { scheduler: scheduler.url },
      }),
    );
    writeFileSync(join(stackDir, 'admin.token'), `${ADMIN_TOKEN}\n`);

    const okClient = deploy('ok');
    const throwsClient = deploy('throws');
    await okClient.waitFor(/^OUT \{"done"/m, 150_000);
    for (const o of okClient.outputs()) {
      if ('job' in o) ok.id = o.job as string;
      if ('done' in o) ok.results = o.done as unknown[];
    }
    await throwsClient.waitFor(/^OUT \{"errorEvent"/m, 150_000);
    for (const o of throwsClient.outputs()) {
      if ('job' in o) throws.id = o.job as string;
      if ('errorEvent' in o)
        throws.error ??= o.errorEvent as { message: string; stack: string; slice: number };
    }
  }, 420_000);

  afterAll(async () => {
    for (const c of clients) await c.stop('SIGKILL');
    await worker?.stop();
    await scheduler?.stop();
    cleanup(dataDir, home);
  });

  it("prints the slice's console output, progress and the same result the worker produced", async () => {
    expect(ok.results).toEqual([1, 2, 3].map((x) => ({ x, value: x * x * 10, tripled: 3 * x })));
    const r = await cli(stackDir, ['replay', ok.id as string, '2']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('console.log: squaring 2');
    // progress reports as the worker gets them (at most one per 0.1 s: the second call is throttled)
    expect(r.out).toMatch(/^progress: 50%$/m);
    expect(r.out).toContain('result: { x: 2, value: 40, tripled: 6 }');
    expect(r.out).toContain('(same result as the worker produced)');

    const j = await cli(stackDir, ['replay', ok.id as string, '3', '--json']);
    expect(j.code, j.err).toBe(0);
    const body = JSON.parse(j.out) as Record<string, unknown>;
    expect(body.result).toEqual(ok.results?.[2]);
    expect(body.result).toEqual((body.recorded as { result: unknown }).result);
    expect(body.console).toEqual([{ level: 'log', text: 'squaring 3', same: 1 }]);
    expect(body.progress).toBeGreaterThanOrEqual(1);
    expect(typeof body.elapsedMs).toBe('number');
  }, 240_000);

  it('a failing slice: the same error, with a stack naming the work function and its line', async () => {
    const seen = throws.error;
    expect(seen?.slice).toBe(2);
    expect(seen?.message).toMatch(/no twos here: 2/);
    const r = await cli(stackDir, ['replay', throws.id as string, '2']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain('error: RangeError: no twos here: 2');
    expect(r.out).toContain('(same error as the worker produced)');
    // the work function as the client wrote it: its 4th line throws
    expect(r.out).toMatch(new RegExp(`at .*dcp-job-${throws.id}/work-function\\.js:4:\\d+`));
    const at = /work function line 4, column (\d+):\n {2}throw new RangeError\('no twos here: ' \+ x\);/.exec(
      r.out,
    );
    expect(at, r.out).not.toBeNull();
    // the worker's stack named the same place in the work function
    expect(seen?.stack).toMatch(new RegExp(`:4:${at?.[1]}\\)`));

    const j = await cli(stackDir, ['replay', throws.id as string, '2', '--json']);
    expect(j.code).toBe(1);
    const body = JSON.parse(j.out) as { error: { name: string; message: string; at: { line: number } } };
    expect(body.error).toMatchObject({ name: 'RangeError', message: seen?.message, at: { line: 4 } });

    const fine = await cli(stackDir, ['replay', throws.id as string, '1']);
    expect(fine.code, fine.err).toBe(0);
    expect(fine.out).toContain('result: 1');
  }, 240_000);

  it('bad job id or slice number: a clear message, no stack trace of the CLI', async () => {
    const noJob = await cli(stackDir, ['replay', 'no-such-job', '1']);
    expect(noJob.code).toBe(1);
    expect(noJob.err).toMatch(/ENOENT: no job no-such-job/);
    const noSlice = await cli(stackDir, ['replay', ok.id as string, '99']);
    expect(noSlice.code).toBe(1);
    expect(noSlice.err).toMatch(/has no slice 99 \(slices 1…3\)/);
    const notANumber = await cli(stackDir, ['replay', ok.id as string, 'two']);
    expect(notANumber.code).toBe(2);
    expect(notANumber.err).toMatch(/slice number is a whole number/);
    for (const r of [noJob, noSlice, notANumber]) expect(r.err).not.toMatch(/\n\s+at /);
    const help = await cli(stackDir, ['replay', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: dcp-emu replay/);
  }, 120_000);

  it('--inspect: the work function is its own script in Node’s inspector, with working breakpoints', async () => {
    const url = `dcp-job-${ok.id}/work-function.js`;
    const scripts: string[] = [];
    const pausedIn: string[] = [];
    const scriptUrls = new Map<string, string>();
    let ws: WebSocket | undefined;
    let nextId = 1;
    const send = (method: string, params: Record<string, unknown> = {}) =>
      ws?.send(JSON.stringify({ id: nextId++, method, params }));
    const attach = (wsUrl: string) => {
      ws = new WebSocket(wsUrl);
      ws.on('open', () => {
        send('Debugger.enable');
        // 0-based: the work function's line 2 (console.log)
        send('Debugger.setBreakpointByUrl', { url, lineNumber: 1 });
        send('Runtime.runIfWaitingForDebugger');
      });
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { method?: string; params?: Record<string, unknown> };
        if (m.method === 'Debugger.scriptParsed') {
          scripts.push(String(m.params?.url));
          scriptUrls.set(String(m.params?.scriptId), String(m.params?.url));
        }
        if (m.method === 'Debugger.paused') {
          const frames = m.params?.callFrames as { location: { scriptId: string; lineNumber: number } }[];
          const top = frames[0]?.location;
          pausedIn.push(`${scriptUrls.get(top?.scriptId ?? '') ?? '?'}:${(top?.lineNumber ?? -2) + 1}`);
          send('Debugger.resume');
        }
      });
      ws.on('error', () => undefined);
    };
    const r = await cli(
      stackDir,
      ['replay', ok.id as string, '2', '--inspect', '--inspect-port', '0', '--json'],
      (err) => {
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(err);
        if (m && !ws) attach(m[1] as string);
      },
    );
    ws?.close();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('chrome://inspect');
    expect(scripts).toContain(url);
    // the pause before the slice, then the breakpoint in the work function
    expect(pausedIn, JSON.stringify(pausedIn)).toContain(`${url}:2`);
    const body = JSON.parse(r.out) as { result: unknown; console: unknown[] };
    expect(body.result).toEqual(ok.results?.[1]);
    expect(body.console).toEqual([{ level: 'log', text: 'squaring 2', same: 1 }]);
  }, 180_000);
});
