import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvinV9 } from './kvin';
import { assignJob, type EvaluatorProcess, LineClient, runSlice, spawnEvaluator } from './test-support';

/* A hand-written supervisor speaking the raw line protocol to a real dcp-emu-evaluator process. */
describe('evaluator line protocol (hand-written client)', () => {
  let ev: EvaluatorProcess;
  beforeAll(async () => {
    ev = await spawnEvaluator({ DCP_EMU_EVALUATOR_MAX_LINE_BYTES: '65536' });
  });
  afterAll(async () => {
    await ev?.stop();
  });

  it('reports scriptLoaded and __sandboxLoaded on ring 0 before anything is sent', async () => {
    const c = await LineClient.connect(ev.port);
    const loaded = await c.waitFor((l) => l.kind === 'message' && l.value.request === '__sandboxLoaded');
    expect(loaded).toMatchObject({ ring: 0 });
    expect(c.lines[0]).toMatchObject({
      kind: 'message',
      ring: 0,
      value: { request: 'scriptLoaded', result: 'success' },
    });
    c.close();
  });

  it('answers framing errors with a failed result and keeps the sandbox usable', async () => {
    const c = await LineClient.connect(ev.port);
    c.sendRaw('{this is not json');
    c.sendRaw('{"type":"launchMissiles"}');
    c.sendRaw('{"type":"workerMessage"}');
    c.sendRaw('{"type":"newSerializer","payload":"({serialize: () => process.exit(1)})"}');
    c.sendRaw('');
    const failures = async (n: number) => {
      await c.waitFor(() => c.lines.filter((l) => l.kind === 'result' && !l.success).length >= n);
      return c.lines.filter((l) => l.kind === 'result' && !l.success);
    };
    const failed = await failures(4);
    expect(
      failed.map((l) => (l.kind === 'result' ? (l.raw.exception as { message: string }).message : '')),
    ).toEqual([
      expect.stringMatching(/JSON|property name|Unexpected/i),
      "Invalid message type 'launchMissiles'",
      expect.stringMatching(/Invalid workerMessage envelope/),
      'newSerializer is not supported',
    ]);
    /* a KVIN payload that does not unmarshal is refused by the sandbox too */
    c.sendRaw('{"type":"workerMessage","message":{"_serializeVerId":"v999","what":1}}');
    await failures(5);
    c.send({ request: 'describe' });
    const d = await c.request('describe');
    expect(d).toMatchObject({ capabilities: { discrete: true }, worktimes: [{ name: 'map-basic' }] });
    expect(c.closed).toBe(false);
    c.close();
  });

  it('ends the session on a line above the size limit', async () => {
    const c = await LineClient.connect(ev.port);
    c.sendRaw(`{"type":"workerMessage","message":{"x":"${'a'.repeat(70_000)}"}}`);
    const die = await c.waitFor((l) => l.kind === 'die');
    expect(die).toMatchObject({
      text: expect.stringMatching(/^ETOOBIG: protocol line longer than 65536 bytes/),
    });
    expect(c.lines.some((l) => l.kind === 'result' && !l.success)).toBe(true);
    await c.closedWithin();
  });

  it('answers die with a DIE: line and closes, even while a slice is busy', async () => {
    const c = await LineClient.connect(ev.port);
    await assignJob(c, 'function (d) { progress(); for (;;) {} }');
    c.send({ request: 'resetState' });
    c.send({ request: 'main', data: 1 });
    await c.request('progress');
    c.sendRaw('{"type":"die"}');
    const die = await c.waitFor((l) => l.kind === 'die');
    expect(die.kind === 'die' && Number.isNaN(Date.parse(die.text))).toBe(false);
    await c.closedWithin();
  });

  it('closes the sandbox after work.reject (DIE: worker close called)', async () => {
    const c = await LineClient.connect(ev.port);
    await assignJob(c, "function () { progress(); work.reject('later', 1); }");
    const end = await runSlice(c, 1);
    expect(end).toEqual({ request: 'workReject', workRejectData: { reason: 'later', retries: 1 } });
    expect(await c.waitFor((l) => l.kind === 'die')).toEqual({ kind: 'die', text: 'worker close called' });
    await c.closedWithin();
  });

  it('keeps one job per sandbox and stops its timers between slices', async () => {
    const c = await LineClient.connect(ev.port);
    await assignJob(
      c,
      `async function (d) {
        progress();
        globalThis.ticks = globalThis.ticks || 0;
        const seen = globalThis.ticks;
        setInterval(() => { globalThis.ticks++; }, 1);
        await new Promise((r) => setTimeout(r, 30));
        return { seen, now: globalThis.ticks };
      }`,
    );
    const one = (await runSlice(c, 1)) as { result: { seen: number; now: number } };
    expect(one.result.seen).toBe(0);
    expect(one.result.now).toBeGreaterThan(0);
    const two = (await runSlice(c, 2)) as { result: { seen: number; now: number } };
    /* the first slice's interval did not run between the slices */
    expect(two.result.seen).toBe(one.result.now);
    const from = c.lines.length;
    c.send({
      request: 'assign',
      job: {
        address: '0x3',
        arguments: [],
        dependencies: [],
        modulePath: [],
        requirePath: [],
        public: {},
        workFunction: 'function () {}',
        useStrict: false,
        worktime: { name: 'map-basic', version: '1.0.0' },
      },
      sandboxConfig: {},
    });
    const rejected = await c.request('reject', 10_000, from);
    expect(String(rejected.error)).toMatch(/already assigned/);
    c.close();
  });

  it('gives work functions the web APIs of a DCP sandbox, and results come back as data', async () => {
    const c = await LineClient.connect(ev.port);
    await assignJob(
      c,
      `async function () {
        progress();
        const u = new URL('../b/c?x=1#h', 'https://Example.com:443/a/d');
        const enc = new TextEncoder().encode('héllo ☃ 😀');
        const order = [];
        await new Promise((r) => { setTimeout(() => { order.push('timeout'); r(); }, 0); queueMicrotask(() => order.push('micro')); });
        return {
          url: u, href: u.href, origin: u.origin, bytes: enc.length, text: new TextDecoder().decode(enc),
          b64: btoa('hello'), un: atob('aGVsbG8='), order, param: new URLSearchParams('a=1&b=x%20y').get('b'),
          clone: structuredClone({ d: new Date(5), t: new Int16Array([1, -2]) }),
          random: crypto.getRandomValues(new Uint8Array(4)).length, uuid: crypto.randomUUID().length,
          now: typeof performance.now(), selfIsGlobal: self === globalThis, wasm: typeof WebAssembly.instantiate,
          job: work.job.public.name,
        };
      }`,
    );
    const end = (await runSlice(c, 1)) as { request: string; result: Record<string, unknown> };
    expect(end.request).toBe('complete');
    expect(end.result.url).toBeInstanceOf(URL);
    expect(String(end.result.url)).toBe('https://example.com/b/c?x=1#h');
    expect(end.result).toMatchObject({
      href: 'https://example.com/b/c?x=1#h',
      origin: 'https://example.com',
      bytes: 15,
      text: 'héllo ☃ 😀',
      b64: 'aGVsbG8=',
      un: 'hello',
      order: ['micro', 'timeout'],
      param: 'x y',
      clone: { d: new Date(5), t: new Int16Array([1, -2]) },
      random: 4,
      uuid: 36,
      now: 'number',
      selfIsGlobal: true,
      wasm: 'function',
      job: 'test job',
    });
    c.close();
  });

  it('answers in KVIN v9 to a v9 peer', async () => {
    const c = await LineClient.connect(ev.port, kvinV9);
    await c.waitFor((l) => l.kind === 'message' && l.value.request === '__sandboxLoaded');
    const from = c.lines.length;
    let raw = '';
    c.socket.on('data', (d: string) => {
      raw += d;
    });
    await assignJob(c, 'function (d) { progress(1); return { d, big: 2n ** 70n } }');
    const done = await runSlice(c, 5);
    expect(done).toMatchObject({ request: 'complete', result: { d: 5, big: 2n ** 70n } });
    expect(raw).toContain('"_serializeVerId":"v9"');
    expect(raw).not.toContain('"_serializeVerId":"v8"');
    expect(c.lines.length).toBeGreaterThan(from);
    c.close();
  });
});
