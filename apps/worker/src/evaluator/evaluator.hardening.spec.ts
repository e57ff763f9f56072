import { readFileSync } from 'node:fs';
import { DcpErrorCode } from '@dcp-emu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignJob, type EvaluatorProcess, LineClient, runSlice, spawnEvaluator } from './test-support';

/*
 * The sandbox's second line of defence, against a real evaluator process: WebAssembly memory is
 * charged against a per-sandbox budget (ENOMEM above it, evaluator RSS bounded), the prelude's own
 * functions never show up in CallSites or `fn.caller`, and the evaluator dies with its parent.
 */
let ev: EvaluatorProcess;

beforeAll(async () => {
  ev = await spawnEvaluator({
    DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: '64',
    DCP_EMU_EVALUATOR_WASM_MAX_PAGES: '1024', // 64 MiB per memory at most
    DCP_EMU_EVALUATOR_WASM_BUDGET_MB: '160',
    DCP_EMU_EVALUATOR_WATCHDOG_MS: '50',
  });
});
afterAll(async () => {
  await ev?.stop();
});

async function probe(workFunction: string, datum: unknown = 1): Promise<Record<string, unknown>> {
  const c = await LineClient.connect(ev.port);
  try {
    await assignJob(c, workFunction);
    return await runSlice(c, datum, 30_000);
  } finally {
    c.close();
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/* (module (memory (export "m") 16)) — a memory the module defines itself, without a maximum */
const moduleBytes = [0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 16, 7, 5, 1, 1, 109, 2, 0];

describe('WebAssembly memory budget', () => {
  it('ends a slice that allocates and touches many memories with ENOMEM; the evaluator RSS stays bounded', async () => {
    const before = rssMb(ev.child.pid as number);
    const end = await probe(`function () {
      progress();
      const keep = [];
      for (let i = 0; i < 64; i++) {
        const m = new WebAssembly.Memory({ initial: 1024 });
        new Uint8Array(m.buffer).fill(1);
        keep.push(m);
      }
      return keep.length;
    }`);
    expect(end).toMatchObject({ request: 'sandboxError', error: { code: DcpErrorCode.ENOMEM } });
    expect(String((end.error as { message: string }).message)).toMatch(/WebAssembly memory over/);
    // two memories of 64 MiB fit the 160 MiB budget; 64 of them would have been 4 GiB
    expect(rssMb(ev.child.pid as number) - before).toBeLessThan(400);
  });

  it('charges memories that modules define themselves (instantiate, new Instance)', async () => {
    const end = await probe(`async function () {
      progress();
      const bytes = new Uint8Array(${JSON.stringify(moduleBytes)});
      const keep = [];
      for (let i = 0; i < 8; i++) {
        const { instance } = await WebAssembly.instantiate(bytes);
        keep.push(instance);
        keep.push(new WebAssembly.Instance(new WebAssembly.Module(bytes)));
      }
      return keep.length;
    }`);
    expect(end).toMatchObject({ request: 'sandboxError', error: { code: DcpErrorCode.ENOMEM } });
  });

  it('cannot reach the unwrapped constructors, and ordinary wasm still works', async () => {
    const end = await probe(`async function () {
      progress();
      const out = {};
      const m = new WebAssembly.Memory({ initial: 1, maximum: 2 });
      out.memCtor = Object.getPrototypeOf(m).constructor === WebAssembly.Memory;
      out.instanceOf = m instanceof WebAssembly.Memory;
      const bytes = new Uint8Array(${JSON.stringify(moduleBytes)});
      const mod = await WebAssembly.compile(bytes);
      out.modCtor = Object.getPrototypeOf(mod).constructor === WebAssembly.Module;
      const inst = await WebAssembly.instantiate(mod);
      out.exported = inst.exports.m.buffer.byteLength;
      out.instCtor = Object.getPrototypeOf(inst).constructor === WebAssembly.Instance;
      try { new WebAssembly.Instance(Object.create(WebAssembly.Module.prototype)); out.fake = 'made'; }
      catch (e) { out.fake = e.name; }
      WebAssembly.Memory = function () { return 'replaced'; };
      out.replaced = typeof new WebAssembly.Memory({ initial: 1, maximum: 1 }) === 'object';
      out.deleted = delete WebAssembly.Memory;
      return out;
    }`);
    expect(end).toMatchObject({
      request: 'complete',
      result: {
        memCtor: true,
        instanceOf: true,
        modCtor: true,
        exported: 16 * 65536,
        instCtor: true,
        fake: 'TypeError',
        replaced: true,
        deleted: false,
      },
    });
  });
});

describe('prelude internals stay out of reach', () => {
  it('shows no prelude function or receiver through CallSites, prepareStackTrace or fn.caller', async () => {
    const end = await probe(`async function work() {
      progress();
      const leaks = [];
      const seen = [];
      Error.prepareStackTrace = (e, sites) => {
        for (const s of sites) {
          const f = s.getFunction();
          const t = s.getThis();
          seen.push(String(s.getFunctionName()));
          if (typeof f === 'function' && f !== work && f !== probeFn && f !== getterFn && f !== timerFn) leaks.push('fn:' + f.name);
          if (t !== undefined && t !== globalThis && t !== null) leaks.push('this:' + Object.keys(t).slice(0, 3).join(','));
        }
        return 'trace';
      };
      function probeFn() { return new Error('x').stack; }
      probeFn();
      let getterFn;
      const viaGetter = { get v() { getterFn = Object.getOwnPropertyDescriptor(viaGetter, 'v').get; return probeFn(); } };
      let timerFn;
      await new Promise((resolve) => setTimeout(timerFn = function timer() {
        probeFn();
        if (timer.caller !== null && timer.caller !== undefined) leaks.push('timerCaller:' + timer.caller.name);
        resolve();
      }, 1));
      try { Object.defineProperty(Error, 'prepareStackTrace', { value: 1 }); leaks.push('redefined'); } catch {}
      const keep = Error.prepareStackTrace;
      Error.prepareStackTrace = undefined;
      const plain = new Error('y').stack;
      Error.prepareStackTrace = keep;
      return { leaks, sawFrames: seen.length > 0, plainHasFrames: /at /.test(plain), viaGetter };
    }`);
    expect(end.request, JSON.stringify(end)).toBe('complete');
    expect(end.result).toMatchObject({ leaks: [], sawFrames: true, plainHasFrames: true });

    const sync = await probe(`function work() {
      progress();
      return { caller: work.caller === null ? null : typeof work.caller, args: typeof work.arguments };
    }`);
    expect(sync).toMatchObject({ request: 'complete', result: { caller: null } });
  });
});

describe('exit with the parent', () => {
  it('exits when the pipe on its stdin closes (the worker died, even by kill -9)', async () => {
    const child = await spawnEvaluator({ DCP_EMU_EVALUATOR_EXIT_WITH_PARENT: '1' }, 20_000, true);
    try {
      const exited = new Promise<number | null>((resolve) =>
        child.child.once('exit', (code) => resolve(code)),
      );
      child.child.stdin?.destroy();
      expect(await exited).toBe(0);
    } finally {
      await child.stop();
    }
  });
});
