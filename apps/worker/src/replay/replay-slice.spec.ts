import { LineSandbox } from '@dcp-emu/worker-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluatorProcess, spawnEvaluator } from '../evaluator/test-support';
import { EvaluatorSandbox } from '../supervisor/evaluator-sandbox';
import { plainJson } from './outcome';
import {
  type OpenSandbox,
  type ReplayEvent,
  type ReplayInput,
  replaySlice,
  workFunctionFrame,
  workFunctionUrl,
} from './replay-slice';
import { vmChannel } from './vm-channel';

const WORK_FUNCTION = `function (x, factor) {
  console.log('got', x, { factor });
  progress(0.5);
  if (x === 3) throw new TypeError('three is bad: ' + x);
  const { twice } = require('pkg/twice');
  return { value: x * factor, twice: twice(x) };
}`;

const input = (
  datum: number,
  modules = { pkg: { twice: 'exports.twice = (x) => 2 * x;' } },
): ReplayInput => ({
  job: '0xjob',
  sliceNumber: datum,
  workFunctionUri: `data:,${encodeURI(WORK_FUNCTION)}`,
  argumentUris: ['data:application/json,10'],
  datumUri: `data:application/json,${datum}`,
  dependencies: ['pkg/twice'],
  requirePath: [],
  modules,
  useStrict: false,
});

/** Both ways a replay runs: our evaluator (isolated-vm, over loopback) and the --inspect vm context. */
describe('replaying one slice', () => {
  let evaluator: EvaluatorProcess;
  beforeAll(async () => {
    evaluator = await spawnEvaluator({}, 60_000);
  }, 90_000);
  afterAll(async () => {
    await evaluator?.stop();
  });

  const modes: [string, () => OpenSandbox][] = [
    [
      'in the evaluator (isolated-vm)',
      () => (host) => EvaluatorSandbox.open('127.0.0.1', evaluator.port, host),
    ],
    ['in a vm context (--inspect)', () => (host) => LineSandbox.start(vmChannel(), host)],
  ];

  for (const [name, open] of modes) {
    describe(name, () => {
      it('reports console output and progress, loads the modules, and resolves with the result', async () => {
        const events: ReplayEvent[] = [];
        let before = 0;
        const { outcome, workFunction } = await replaySlice(input(2), open(), (e) => events.push(e), {
          beforeWork: () => {
            before = events.length + 1;
          },
        });
        expect(outcome).toMatchObject({ kind: 'complete', result: { value: 20, twice: 4 } });
        expect(workFunction).toBe(WORK_FUNCTION);
        expect(before).toBe(1); // after assign, before the slice's first output
        expect(events).toEqual([
          { type: 'console', level: 'log', text: 'got 2 { factor: 10 }', same: 1 },
          { type: 'progress', value: 50 },
        ]);
      });

      it("a throwing slice: the error with a stack naming the work function's own line", async () => {
        const { outcome, workFunction } = await replaySlice(input(3), open(), () => undefined);
        expect(outcome.kind).toBe('workError');
        if (outcome.kind !== 'workError') return;
        expect(outcome.error).toMatchObject({ name: 'TypeError', message: 'three is bad: 3' });
        const stack = String(outcome.error.stack);
        expect(stack).toContain(`${workFunctionUrl('0xjob')}:4:`);
        expect(workFunctionFrame(stack, workFunction, '0xjob')).toEqual({
          line: 4,
          column: 22,
          text: "  if (x === 3) throw new TypeError('three is bad: ' + x);",
        });
      });

      it('a module the bundle does not hold: the assignment fails, saying which', async () => {
        await expect(replaySlice(input(2, {} as never), open(), () => undefined)).rejects.toThrow(
          /pkg\/twice/,
        );
      });
    });
  }
});

describe('plainJson', () => {
  it('renders any value as JSON that serializes', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(
      plainJson({
        n: 1n,
        u: undefined,
        inf: Number.POSITIVE_INFINITY,
        t: new Uint8Array([1, 2]),
        m: new Map([['k', 1]]),
        cyclic,
        e: new RangeError('r'),
      }),
    ).toEqual({
      n: '1n',
      u: null,
      inf: 'Infinity',
      t: [1, 2],
      m: [['k', 1]],
      cyclic: { a: 1, self: '[Circular]' },
      e: { error: { name: 'RangeError', message: 'r' } },
    });
  });

  it('finds no work function frame in a stack without one', () => {
    expect(workFunctionFrame('Error: x\n    at f (other.js:1:1)', 'f', '0xjob')).toBeUndefined();
  });
});
