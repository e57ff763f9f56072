import { DcpErrorCode } from '@dcp-emu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignJob, type EvaluatorProcess, LineClient, runSlice, spawnEvaluator } from './test-support';

/*
 * Hostile work functions against a real evaluator process. Every probe runs in its own sandbox;
 * none may reach the host, and each runaway is stopped with its DCP reason while other sandboxes
 * keep working.
 */
let ev: EvaluatorProcess;

beforeAll(async () => {
  ev = await spawnEvaluator({
    DCP_EMU_EVALUATOR_PROGRESS_TIMEOUT_MS: '1500',
    DCP_EMU_EVALUATOR_SLICE_CPU_LIMIT_MS: '6000',
    DCP_EMU_EVALUATOR_CALL_TIMEOUT_MS: '2000',
    DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: '48',
    DCP_EMU_EVALUATOR_WASM_MAX_PAGES: '512',
    DCP_EMU_EVALUATOR_WATCHDOG_MS: '50',
    DCP_EMU_EVALUATOR_MAX_OUTPUT_BACKLOG_MB: '8',
  });
});
afterAll(async () => {
  await ev?.stop();
});

async function sandbox(workFunction: string): Promise<LineClient> {
  const c = await LineClient.connect(ev.port);
  await assignJob(c, workFunction);
  return c;
}

/** Runs one slice of `workFunction` and returns how it ended. */
async function probe(workFunction: string, datum: unknown = 1): Promise<Record<string, unknown>> {
  const c = await sandbox(workFunction);
  try {
    return await runSlice(c, datum);
  } finally {
    c.close();
  }
}

async function healthy(): Promise<void> {
  const c = await sandbox('function (d) { progress(); return d * 2; }');
  expect(await runSlice(c, 21)).toMatchObject({ request: 'complete', result: 42 });
  c.close();
}

describe('escape attempts', () => {
  it('cannot reach the host through constructors, require, import() or globals', async () => {
    const end = await probe(`async function () {
      progress();
      const out = {};
      const attempt = async (name, fn) => {
        try { const v = await fn(); out[name] = typeof v === 'object' && v !== null ? 'object:' + Object.keys(v).slice(0, 5).join(',') : typeof v; }
        catch (e) { out[name] = 'threw ' + e.name; }
      };
      await attempt('ctorProcess', () => this.constructor.constructor('return process')());
      await attempt('fnProcess', () => Function('return typeof process === "undefined" ? undefined : process')());
      await attempt('progressCtor', () => progress.constructor('return process')());
      await attempt('consoleCtor', () => console.log.constructor('return this.process || globalThis.process')());
      await attempt('requireFs', () => require('fs'));
      await attempt('requireChild', () => require('child_process'));
      await attempt('importFs', () => import('fs'));
      await attempt('importData', () => import('data:text/javascript,export default 1'));
      await attempt('buffer', () => Buffer);
      await attempt('globalNode', () => global);
      await attempt('xhr', () => new XMLHttpRequest());
      await attempt('importScripts', () => importScripts('http://x/'));
      out.globals = Object.getOwnPropertyNames(globalThis).filter((k) => /^(_|KVIN|process|Buffer|global$|worktimes)/.test(k));
      out.stackFrames = (() => { try { null.x } catch (e) { return /node:|internal\\//.test(e.stack) } })();
      return out;
    }`);
    expect(end.request).toBe('complete');
    expect(end.result).toEqual({
      ctorProcess: 'threw ReferenceError',
      fnProcess: 'undefined',
      progressCtor: 'threw ReferenceError',
      consoleCtor: 'undefined',
      requireFs: 'threw Error',
      requireChild: 'threw Error',
      importFs: 'threw Error',
      importData: 'threw Error',
      buffer: 'threw ReferenceError',
      globalNode: 'threw ReferenceError',
      xhr: 'threw ReferenceError',
      importScripts: 'threw Error',
      globals: [],
      stackFrames: false,
    });
  });

  it('prototype tampering with values handed in stays inside the sandbox', async () => {
    const c = await sandbox(`function (datum) {
      progress();
      Object.getPrototypeOf(datum).polluted = 'yes';
      Object.getPrototypeOf(datum.list).extra = function () { return 'hijacked'; };
      datum.constructor.prototype.toString = () => 'pwned';
      const escaped = datum.constructor.constructor('return typeof process')();
      let frozen = false;
      try { datum.x = 1; } catch (e) { frozen = true; }
      return { escaped, seen: ({}).polluted, frozen, list: datum.list.length };
    }`);
    const first = await runSlice(c, { list: [1, 2, 3] });
    expect(first).toMatchObject({
      request: 'complete',
      result: { escaped: 'undefined', seen: 'yes', list: 3 },
    });
    /* the same (tampered) sandbox keeps speaking the protocol correctly for the next slice */
    const second = await runSlice(c, { list: [1] });
    expect(second).toMatchObject({ request: 'complete', result: { escaped: 'undefined', list: 1 } });
    c.close();
    /* a new sandbox (another job) sees none of it */
    const clean = await probe(
      `function () { progress(); return [({}).polluted, typeof [].extra, String({})]; }`,
    );
    expect(clean).toMatchObject({ request: 'complete', result: [undefined, 'undefined', '[object Object]'] });
  });

  it('a work function that breaks the built-ins the sandbox relies on only kills its own sandbox', async () => {
    const end = await probe(`function () {
      progress();
      Array.prototype.push = function () { throw new Error('push hijacked'); };
      Object.defineProperty(Object.prototype, 'ringSource', { set() { throw new Error('setter hijacked'); } });
      return [1, 2, 3];
    }`).catch((e: Error) => ({ request: 'closed', message: e.message }));
    /* the result cannot be marshalled any more: the slice fails as a sandboxError (as in DCP), or,
     * when not even that can be sent, the host kills the sandbox with EUNCAUGHT */
    expect(end.request).toBe('sandboxError');
    const error = (end as { error: { message: string; code?: string } }).error;
    expect(error.code === DcpErrorCode.EUNCAUGHT || /hijacked/.test(error.message)).toBe(true);
    await healthy();
  });
});

describe('runaway work functions', () => {
  it('kills an infinite loop without progress with ENOPROGRESS while another sandbox keeps working', async () => {
    const looper = await sandbox('function () { progress(); for (;;) {} }');
    looper.send({ request: 'resetState' });
    const from = looper.lines.length;
    looper.send({ request: 'main', data: 1 });
    await looper.request('progress', 10_000, from);
    /* a second connection is served while the first one spins */
    await healthy();
    const end = await looper.request('noProgress', 10_000, from);
    expect(end.message).toMatch(/no progress/);
    const die = await looper.waitFor((l) => l.kind === 'die', 10_000, from);
    expect(die).toMatchObject({ text: expect.stringMatching(new RegExp(`^${DcpErrorCode.ENOPROGRESS}:`)) });
    await looper.closedWithin();
    await healthy();
  });

  it('kills a loop that keeps calling progress() with ESLICETOOSLOW', async () => {
    const end = await probe('function () { for (;;) progress(); }');
    expect(end).toMatchObject({ request: 'sandboxError', error: { code: DcpErrorCode.ESLICETOOSLOW } });
    await healthy();
  });

  it('kills an endless microtask chain with ESLICETOOSLOW', async () => {
    const end = await probe('async function () { progress(); for (;;) { await null; progress(); } }');
    expect(end).toMatchObject({ request: 'sandboxError', error: { code: DcpErrorCode.ESLICETOOSLOW } });
  });

  it('kills an endless loop in eval (outside a slice) and closes the sandbox', async () => {
    const c = await LineClient.connect(ev.port);
    c.send({ request: 'eval', data: 'for (;;) {}', msgId: 'spin' });
    const die = await c.waitFor((l) => l.kind === 'die');
    expect(die).toMatchObject({ text: expect.stringMatching(new RegExp(`^${DcpErrorCode.ESLICETOOSLOW}:`)) });
    await c.closedWithin();
  });

  it('kills a heap bomb with ENOMEM', async () => {
    const end = await probe(
      'function () { const keep = []; for (;;) { progress(); keep.push(new Array(1000000).fill(Math.random())); } }',
    );
    expect(end).toMatchObject({ request: 'sandboxError', error: { code: DcpErrorCode.ENOMEM } });
    await healthy();
  });

  it('refuses ArrayBuffer and WebAssembly memory beyond the limits (the work function sees the error)', async () => {
    const buffers = await probe(
      'function () { progress(); const keep = []; for (let i = 0; i < 1000; i++) keep.push(new ArrayBuffer(16 * 1024 * 1024)); return keep.length; }',
    );
    expect(['workError', 'sandboxError']).toContain(buffers.request);
    if (buffers.request === 'workError') expect((buffers.error as Error).name).toBe('RangeError');
    else expect(buffers.error).toMatchObject({ code: DcpErrorCode.ENOMEM });

    const wasm = await probe(`function () {
      progress();
      const m = new WebAssembly.Memory({ initial: 1 });
      let pages = 1;
      for (;;) { m.grow(64); pages += 64; if (pages > 100000) return 'grew to ' + pages; }
    }`);
    expect(wasm).toMatchObject({ request: 'workError' });
    expect((wasm.error as Error).name).toBe('RangeError');
    await healthy();
  });

  it('kills a sandbox that floods a supervisor which does not read (ENOMEM)', async () => {
    const c = await sandbox(`function () {
      const chunk = 'x'.repeat(1 << 20);
      setInterval(() => { progress(); for (let i = 0; i < 8; i++) work.emit('flood', chunk); }, 1);
      return new Promise(() => {});
    }`);
    c.socket.pause();
    c.send({ request: 'resetState' });
    c.send({ request: 'main', data: 1 });
    await ev.waitForOutput(/"code":"ENOMEM","reason":"sandbox output backlog/, 15_000);
    c.close();
    await healthy();
  });

  it('refuses Atomics.wait instead of blocking the isolate', async () => {
    const end = await probe(
      'function () { progress(); const a = new Int32Array(new SharedArrayBuffer(4)); return Atomics.wait(a, 0, 0); }',
    );
    expect(end).toMatchObject({ request: 'workError' });
    expect((end.error as Error).name).toBe('TypeError');
  });

  it('never returns a sandbox object: unserializable results become errors, not host references', async () => {
    const end = await probe(
      'function () { progress(); return { f: function secret() { return 1; }, s: Symbol("x") }; }',
    );
    expect(['complete', 'sandboxError']).toContain(end.request);
    if (end.request === 'complete') expect(typeof (end.result as { f: unknown }).f).not.toBe('function');
  });
});
