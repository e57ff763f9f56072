import { DcpErrorCode } from '@dcp-emu/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignJob,
  type EvaluatorProcess,
  type EvaluatorLine,
  LineClient,
  runSlice,
  spawnEvaluator,
} from './test-support';

/* The evaluator manager: admission by sandbox count, load shedding by total isolate heap. */
let ev: EvaluatorProcess;

beforeAll(async () => {
  ev = await spawnEvaluator({
    DCP_EMU_EVALUATOR_MAX_SANDBOXES: '2',
    DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: '160',
    DCP_EMU_EVALUATOR_MAX_TOTAL_HEAP_MB: '64',
    DCP_EMU_EVALUATOR_WATCHDOG_MS: '50',
  });
});
afterAll(async () => {
  await ev?.stop();
});

const first = (c: LineClient) =>
  c.waitFor(
    (l: EvaluatorLine) => l.kind === 'die' || (l.kind === 'message' && l.value.request === '__sandboxLoaded'),
  );

/** Connects until the manager admits the connection (slots free up when closed sessions are seen). */
async function admitted(): Promise<LineClient> {
  for (let i = 0; i < 100; i++) {
    const c = await LineClient.connect(ev.port);
    if ((await first(c)).kind === 'message') return c;
    await c.closedWithin();
  }
  throw new Error('never admitted');
}

describe('evaluator manager', () => {
  it('refuses sandboxes above the limit and admits again once one ends', async () => {
    const a = await LineClient.connect(ev.port);
    const b = await LineClient.connect(ev.port);
    expect((await first(a)).kind).toBe('message');
    expect((await first(b)).kind).toBe('message');
    const refused = await LineClient.connect(ev.port);
    expect(await first(refused)).toMatchObject({
      kind: 'die',
      text: expect.stringMatching(/limit of 2 sandboxes/),
    });
    await refused.closedWithin();

    a.sendRaw('{"type":"die"}');
    await a.closedWithin();
    /* the manager frees the slot when the session ends (bounded retry, each try waits for a line) */
    const again = await admitted();
    expect(again.closed).toBe(false);
    again.close();
    b.close();
  });

  it('kills the largest sandbox with ENOMEM when the isolates together exceed the heap budget', async () => {
    const small = await admitted();
    await assignJob(small, 'function (d) { progress(); return d + 1; }');
    const big = await admitted();
    await assignJob(
      big,
      `function () {
        progress();
        globalThis.hoard = [];
        for (let i = 0; i < 90; i++) globalThis.hoard.push(new Array(100000).fill(i + 0.5));
        return new Promise(() => { setInterval(() => progress(), 20); });
      }`,
    );
    const end = await runSlice(big, 1, 20_000);
    expect(end).toMatchObject({
      request: 'sandboxError',
      error: { code: DcpErrorCode.ENOMEM, message: expect.stringMatching(/total heap budget/) },
    });
    await big.closedWithin();
    expect(await runSlice(small, 1)).toMatchObject({ request: 'complete', result: 2 });
    small.close();
  });
});

describe('evaluator manager RSS backstop', () => {
  it('kills the largest sandbox when the process holds more than maxRssMb beyond its start, once per hold-off', async () => {
    const { EvaluatorManager } = await import('./manager');
    const { createLogger } = await import('@dcp-emu/service-kit');
    const MiB = 1024 * 1024;
    let rss = 100 * MiB;
    const manager = new EvaluatorManager(
      { maxSandboxes: 4, maxTotalHeapMb: 4096, maxRssMb: 256, watchdogIntervalMs: 60_000 },
      createLogger('evaluator', 'silent'),
      () => rss,
    );
    const killed: string[] = [];
    // the manager's view of a session: its sandbox's reported size and kill()
    const session = (name: string, bytes: number) =>
      ({
        done: new Promise(() => {}),
        current: { check() {}, heapBytes: async () => bytes },
        kill: (code: DcpErrorCode) => killed.push(`${name}:${code}`),
      }) as unknown as import('./session').Session;
    manager.admit(session('small', 10 * MiB));
    manager.admit(session('large', 50 * MiB));
    manager.check();
    await new Promise((r) => setTimeout(r, 20));
    expect(killed).toEqual([]);
    rss = 100 * MiB + 300 * MiB; // memory nobody accounted for
    manager.check();
    await new Promise((r) => setTimeout(r, 20));
    expect(killed).toEqual([`large:${DcpErrorCode.ENOMEM}`]);
    manager.check(); // within the hold-off: no second victim while the freed memory leaves the RSS
    await new Promise((r) => setTimeout(r, 20));
    expect(killed).toHaveLength(1);
    manager.stop();
  });
});
