import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluatorProcess, spawnEvaluator } from './test-support';

/*
 * The real supervisor side of the line protocol: dcp-client 4.4.x's lib/standaloneWorker.js (the
 * SandboxConstructor of dcp-worker 3.3.19), driven here the way supervisor2/sandbox2.js drives it
 * (every message kvin.marshal()ed, every reply kvin.unmarshal()ed with dcp-client's own kvin), and
 * dcp-worker's own start-up probe (lib/worker-info.js, the `reportingCheck` eval).
 */
const root = join(__dirname, '..', '..', '..', '..');
const workerDir = join(root, 'node_modules', 'dcp-worker');
const dcpClientDir = [
  join(workerDir, 'node_modules', 'dcp-client'),
  join(root, 'node_modules', 'dcp-client'),
].find(
  (d) => existsSync(d) && /^4\./.test(JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).version),
);
if (!dcpClientDir) throw new Error('dcp-client 4.4.x (dcp-worker 3.3.19 dependency) not found');
const load = createRequire(join(dcpClientDir, 'index.js'));
const loadFromWorker = createRequire(join(workerDir, 'package.json'));

interface Kvin {
  marshal(v: unknown): unknown;
  unmarshal(v: unknown): unknown;
}
interface StandaloneWorker {
  onmessage: (ev: { data: unknown }) => void;
  onerror: (e: unknown) => void;
  addEventListener(type: string, fn: (...args: unknown[]) => void): void;
  postMessage(message: unknown): void;
  terminate(): void;
}
type WorkerCtor = new (options: { name: string }) => StandaloneWorker;
type Reply = { ringSource: number; value: Record<string, unknown> };

let ev: EvaluatorProcess;
let Worker: WorkerCtor;
let kvin: Kvin;

/** One sandbox handle, as sandbox2.js holds it: marshal out, unmarshal in, await replies. */
class Handle {
  readonly replies: Reply[] = [];
  ended = false;
  private waiters: Array<() => void> = [];
  readonly w: StandaloneWorker;

  constructor() {
    this.w = new Worker({ name: 'DCP Sandbox #test' });
    this.w.onmessage = (event) => {
      const d = event.data as { serialized?: boolean; message?: string };
      const data = (d.serialized ? load('kvin').parse(d.message) : kvin.unmarshal(event.data)) as Reply;
      this.replies.push(data);
      for (const f of this.waiters.splice(0)) f();
    };
    this.w.onerror = () => undefined;
    this.w.addEventListener('end', () => {
      this.ended = true;
      for (const f of this.waiters.splice(0)) f();
    });
  }

  post(message: Record<string, unknown>): number {
    const mark = this.replies.length;
    this.w.postMessage(kvin.marshal(message));
    return mark;
  }

  async wait(request: string, from = 0, timeoutMs = 10_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.replies.slice(from).find((r) => r.value.request === request);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${request}; got ${JSON.stringify(this.replies.map((r) => r.value.request))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  requests(from = 0): string[] {
    return this.replies.slice(from).map((r) => String(r.value.request));
  }
}

const job = (workFunction: string, dependencies: string[] = [], args: unknown[] = []) => ({
  request: 'assign',
  job: {
    address: '0x2222222222222222222222222222222222222222',
    arguments: args,
    dependencies,
    modulePath: [],
    requirePath: [],
    public: { name: 'standalone test job', description: 'd' },
    workFunction,
    useStrict: false,
    worktime: { name: 'map-basic', version: '1.0.0' },
  },
  sandboxConfig: { progressThrottle: 0.1 },
});

async function readySandbox(
  workFunction: string,
  dependencies: string[] = [],
  args: unknown[] = [],
): Promise<Handle> {
  const h = new Handle();
  await h.wait('__sandboxLoaded');
  await h.wait('describe', h.post({ request: 'describe' }));
  await h.wait(
    'applyRequirementsDone',
    h.post({ request: 'applyRequirements', requirements: { environment: {} }, worktime: 'map-basic' }),
  );
  const mark = h.post(job(workFunction, dependencies, args));
  if (dependencies.length) {
    const dep = await h.wait('dependency', mark);
    h.post({
      request: 'moduleGroup',
      id: dep.value.id,
      data: {
        mathpkg: {
          square:
            'module.declare(["./offset"], function (require, exports) { const o = require("./offset"); exports.square = (x) => x * x + o.offset; });',
          offset: 'module.declare([], function (require, exports) { exports.offset = 1000; });',
        },
      },
    });
  }
  const assigned = await h.wait('assigned', mark);
  expect(assigned.ringSource).toBe(2);
  return h;
}

async function slice(h: Handle, datum: unknown): Promise<{ end: Reply; from: number }> {
  await h.wait('resetStateDone', h.post({ request: 'resetState' }));
  const from = h.post({ request: 'main', data: datum });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const end = h.replies
      .slice(from)
      .find((r) =>
        ['complete', 'workError', 'workReject', 'sandboxError', 'noProgress'].includes(
          String(r.value.request),
        ),
      );
    if (end) return { end, from };
    if (Date.now() > deadline) throw new Error(`slice did not end: ${JSON.stringify(h.requests(from))}`);
    await h.wait('__never__', from, 50).catch(() => undefined);
  }
}

beforeAll(async () => {
  ev = await spawnEvaluator({ DCP_EMU_LOG_LEVEL: 'debug' });
  process.env.DCP_CONFIG_LOCATION = '';
  load('./index.js').initSync({ scheduler: 'http://127.0.0.1:1/', parseArgv: false, reportErrors: false });
  kvin = load('kvin') as Kvin;
  Worker = (load('./lib/standaloneWorker') as { workerFactory(o: object): WorkerCtor }).workerFactory({
    hostname: '127.0.0.1',
    port: ev.port,
  });
}, 60_000);

afterAll(async () => {
  await ev?.stop();
});

describe('dcp-emu-evaluator under dcp-client 4.4.x standaloneWorker (dcp-worker 3.3.19 supervisor side)', () => {
  it("answers dcp-worker's reportingCheck start-up probe (lib/worker-info.js)", async () => {
    const info = loadFromWorker('./lib/worker-info.js') as {
      getEvaluatorInformation(cfg: { hostname: string; port: number }): Promise<unknown>;
    };
    const answer = await info.getEvaluatorInformation({ hostname: '127.0.0.1', port: ev.port });
    expect(answer).toEqual({
      webgpu: { enabled: false },
      worktimes: [{ name: 'map-basic', version: '1.0.0', versions: ['1.0.0'] }],
    });
  });

  it('describe → applyRequirements → assign with modules → two slices in one sandbox, with console, progress, emit and fetch', async () => {
    const wf = `async function (datum, label) {
      globalThis.sliceCount = (globalThis.sliceCount || 0) + 1;
      console.log('slice', datum);
      progress(0.5);
      work.emit('half', { datum, jobName: work.job.public.name });
      const { square } = require('mathpkg/square');
      const res = await fetch('http://127.0.0.1:1/data/' + datum, { method: 'POST', body: 'q=' + datum, headers: { 'x-a': '1' } });
      const text = await res.text();
      progress(1);
      return { label, sq: square(datum), text, status: res.status, count: globalThis.sliceCount,
               bytes: new Uint8Array([1, 2, 255]), when: new Date(0), nan: NaN, missing: undefined,
               err: new RangeError('kept') };
    }`;
    const h = await readySandbox(wf, ['mathpkg/square'], ['L']);

    for (const datum of [3, 4]) {
      await h.wait('resetStateDone', h.post({ request: 'resetState' }));
      const from = h.post({ request: 'main', data: datum });
      const fr = await h.wait('fetchRequest', from);
      expect(fr.ringSource).toBe(2);
      const req = fr.value.data as {
        url: string;
        method: string;
        headersEntries: string[][];
        bodyBuffer: Uint8Array;
      };
      expect(req).toMatchObject({
        url: `http://127.0.0.1:1/data/${datum}`,
        method: 'POST',
        headersEntries: [['x-a', '1']],
      });
      expect(new TextDecoder().decode(req.bodyBuffer)).toBe(`q=${datum}`);
      h.post({
        request: 'fetchResponse',
        id: fr.value.id,
        data: {
          url: req.url,
          status: 201,
          statusText: 'Created',
          headersEntries: [['content-type', 'text/plain']],
          bodyBuffer: new TextEncoder().encode(`body ${datum} ✓`),
        },
      });
      const done = await h.wait('complete', from);
      expect(done.ringSource).toBe(3);
      const result = done.value.result as Record<string, unknown>;
      expect(result).toMatchObject({
        label: 'L',
        sq: datum * datum + 1000,
        text: `body ${datum} ✓`,
        status: 201,
        count: datum - 2,
      });
      expect(result.bytes).toEqual(new Uint8Array([1, 2, 255]));
      expect(result.when).toEqual(new Date(0));
      expect(Number.isNaN(result.nan)).toBe(true);
      expect('missing' in result && result.missing === undefined).toBe(true);
      expect(result.err).toBeInstanceOf(Error);
      expect((result.err as Error).message).toBe('kept');

      const seq = h.requests(from);
      expect(seq.indexOf('console')).toBeLessThan(seq.indexOf('progress'));
      expect(seq.indexOf('measurement')).toBeLessThan(seq.indexOf('complete'));
      const consoleMsg = h.replies.slice(from).find((r) => r.value.request === 'console');
      expect(consoleMsg?.value.payload).toEqual({ level: 'log', message: ['slice', datum], same: 1 });
      const emitted = h.replies.slice(from).find((r) => r.value.request === 'emitEvent');
      expect(emitted?.value.payload).toEqual({
        eventName: 'custom',
        customEvent: 'half',
        data: { datum, jobName: 'standalone test job' },
      });
      const progressMsg = h.replies.slice(from).find((r) => r.value.request === 'progress');
      expect(progressMsg).toMatchObject({
        ringSource: 3,
        value: { progress: 50, value: 0.5, indeterminate: 0 },
      });
    }
    /* terminate() sends {type:'die'}: the evaluator answers DIE: and ends this sandbox */
    const dies = () => ev.output().match(/"reason":"die requested"/g)?.length ?? 0;
    const before = dies();
    h.w.terminate();
    await ev.waitForOutput(new RegExp(`("reason":"die requested"[\\s\\S]*){${before + 1}}`), 10_000);
  });

  it('reports a throw as workError, work.reject as workReject, and fetchError to the work function', async () => {
    const thrower = await readySandbox(
      `function (d) { progress(); const e = new TypeError('boom ' + d); e.code = 'EBOOM'; throw e; }`,
    );
    const { end } = await slice(thrower, 3);
    expect(end).toMatchObject({ ringSource: 3, value: { request: 'workError' } });
    const err = end.value.error as Error & { code: string };
    expect(err).toBeInstanceOf(Error);
    expect([err.name, err.message, err.code]).toEqual(['TypeError', 'boom 3', 'EBOOM']);
    expect(err.stack).toContain('boom 3');
    /* the sandbox survives a work-function error and runs the next slice */
    expect((await slice(thrower, 4)).end.value.request).toBe('workError');
    thrower.w.terminate();

    const rejecter = await readySandbox(
      `async function (d) { progress(); work.reject('not today', 2); return 'ignored'; }`,
    );
    const rejected = await slice(rejecter, 1);
    expect(rejected.end.value).toEqual({
      request: 'workReject',
      workRejectData: { reason: 'not today', retries: 2 },
    });
    expect(rejecter.requests(rejected.from)).toContain('measurement');
    await new Promise((r) => setTimeout(r, 200));
    expect(rejecter.requests(rejected.from)).not.toContain('complete');

    const fetcher = await readySandbox(
      `async function (d) { progress(); try { await fetch('http://127.0.0.1:1/forbidden'); return 'fetched'; } catch (e) { return e.name + ': ' + e.message; } }`,
    );
    await fetcher.wait('resetStateDone', fetcher.post({ request: 'resetState' }));
    const from = fetcher.post({ request: 'main', data: 1 });
    const fr = await fetcher.wait('fetchRequest', from);
    fetcher.post({
      request: 'fetchError',
      id: fr.value.id,
      error: {
        name: 'DCPError',
        message: "Not allowed to fetch from 'http://127.0.0.1:1/forbidden'",
        stack: '',
      },
    });
    const done = await fetcher.wait('complete', from);
    expect(done.value.result).toBe("TypeError: Not allowed to fetch from 'http://127.0.0.1:1/forbidden'");
    fetcher.w.terminate();
  });

  it('evaluates eval requests in the sandbox and reports eval errors on ring 2', async () => {
    const h = new Handle();
    await h.wait('__sandboxLoaded');
    const ok = await h.wait(
      'evalResult::sum',
      h.post({ request: 'eval', data: '[1,2,3].reduce((a, b) => a + b)', msgId: 'sum' }),
    );
    expect(ok).toMatchObject({ ringSource: 2, value: { data: 6 } });
    const bad = await h.wait('error', h.post({ request: 'eval', data: 'nope(', msgId: 'bad' }));
    expect(bad).toMatchObject({ ringSource: 2, value: { error: { name: 'SyntaxError' } } });
    h.w.terminate();
  });
});
