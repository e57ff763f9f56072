import { LineSandbox, type SandboxHost } from '@dcp-emu/worker-core';
import { afterEach, describe, expect, it } from 'vitest';
import { findRepoRoot, sandboxScript } from './sandbox-sources';
import { VmWorker } from './vm-worker.fixture';
import { scriptDataUrl, webWorkerSandboxes, workerChannel } from './web-worker-channel';

/**
 * The browser sandbox script (host + KVIN + our evaluator's prelude) behind a Web Worker channel,
 * run in a `vm` context, driven by the same LineSandbox the supervisor uses: the DCP evaluator
 * line protocol end to end without a browser.
 */
const timeouts = { generalMs: 10_000, progressMs: 10_000, connectMs: 10_000 };
const host: SandboxHost = {
  modules: async (ids) => {
    const out: Record<string, Record<string, string>> = {};
    for (const id of ids) {
      const [pkg = '', file = ''] = id.split('/');
      out[pkg] = {
        [file]: 'module.declare([], function (require, exports) { exports.triple = (x) => 3 * x; });',
      };
    }
    return out;
  },
  fetch: async () => {
    throw new Error('Not allowed to fetch from this origin');
  },
};

const job = (workFunction: string, extra: Record<string, unknown> = {}) => ({
  id: '0xjob',
  arguments: [10],
  dependencies: [],
  modulePath: [],
  requirePath: [],
  public: { name: 'vm job' },
  workFunction,
  useStrict: false,
  worktime: { name: 'map-basic', version: '1.0.0' },
  ...extra,
});

const workers: VmWorker[] = [];
function sandboxWorker(): VmWorker {
  const w = new VmWorker(sandboxScript());
  workers.push(w);
  return w;
}

afterEach(() => {
  for (const w of workers.splice(0)) w.terminate();
});

describe('browser sandbox script', () => {
  it('is assembled from the installed KVIN builds and our evaluator prelude', () => {
    const script = sandboxScript();
    expect(findRepoRoot()).toMatch(/\/?[^/]+$/);
    expect(script).toContain('dcpEmuWebWorkerHost');
    expect(script).toContain('dcpEmuPrelude');
    expect(script.indexOf('__dcpEmuKvin9')).toBeLessThan(script.indexOf('dcpEmuPrelude'));
    expect(script).not.toContain('dcpEmuPolyfills');
    expect(scriptDataUrl('a b')).toBe('data:text/javascript;charset=utf-8,a%20b');
  });

  it('describes, assigns and runs slices: progress, console, timers, require, result', async () => {
    const sandbox = await LineSandbox.start(workerChannel(sandboxWorker()), host, timeouts);
    expect(sandbox.capabilities).toMatchObject({ environment: { webgpu: false } });
    await sandbox.assign(
      job(
        `async function (x, k) {
          progress(0.5);
          console.log('slice', x);
          await new Promise((r) => setTimeout(r, 5));
          progress(1);
          return { v: require('pkg/util').triple(x) + k, bytes: new Uint8Array([x]) };
        }`,
        { dependencies: ['pkg/util'] },
      ),
      { environment: {} },
      { progressThrottle: 0 },
    );
    const logs: unknown[] = [];
    const progress: Array<number | undefined> = [];
    sandbox.on('console', (p) => logs.push(p.message));
    sandbox.on('progress', (p) => progress.push(p));
    const first = await sandbox.work(2);
    expect(first).toMatchObject({ kind: 'complete', result: { v: 16, bytes: new Uint8Array([2]) } });
    const second = await sandbox.work(5);
    expect(second).toMatchObject({ kind: 'complete', result: { v: 25 } });
    expect(logs).toEqual([
      ['slice', 2],
      ['slice', 5],
    ]);
    expect(progress[0]).toBe(50); // progress(0.5); the later progress(1) falls in the throttle window
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(sandbox.slicesRun).toBe(2);
    sandbox.close();
    expect(sandbox.isOpen).toBe(false);
  });

  it('reports a thrown work function as workError and a work.reject as workReject + DIE', async () => {
    const factory = webWorkerSandboxes('data:ignored', () => sandboxWorker());
    const throwing = await factory(host, timeouts);
    await throwing.assign(
      job('function (x) { progress(1); throw new RangeError("bad " + x); }'),
      { environment: {} },
      {},
    );
    const error = await throwing.work(3);
    expect(error).toMatchObject({ kind: 'workError', error: { name: 'RangeError', message: 'bad 3' } });
    throwing.close();

    const worker = sandboxWorker();
    const rejecting = await LineSandbox.start(workerChannel(worker), host, timeouts);
    await rejecting.assign(
      job('function () { progress(0); work.reject("not here", 1); }'),
      { environment: {} },
      {},
    );
    const ended = new Promise<string>((r) => rejecting.on('end', r));
    expect(await rejecting.work(1)).toMatchObject({ kind: 'workReject', reason: 'not here', retries: 1 });
    expect(await ended).toMatch(/sandbox died/);
    expect(worker.closed).toBe(true);
  });

  it('hides network and messaging globals from work functions and answers die', async () => {
    const worker = sandboxWorker();
    const sandbox = await LineSandbox.start(workerChannel(worker), host, timeouts);
    await sandbox.assign(
      job(`function () {
        progress(1);
        return [typeof XMLHttpRequest, typeof WebSocket, typeof close, typeof __dcpEmuSend,
          typeof __dcpEmuHostReady, typeof postMessage];
      }`),
      { environment: {} },
      {},
    );
    const out = await sandbox.work(0);
    expect(out).toMatchObject({
      kind: 'complete',
      result: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'function'],
    });
    sandbox.close();
    expect(worker.closed).toBe(true);
  });
});
