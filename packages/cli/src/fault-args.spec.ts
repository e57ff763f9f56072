import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args';
import { parseDuration } from './fault-args';

const env = { DCP_EMU_DATA_DIR: '/tmp/d' };
const parse = (...argv: string[]) => parseCommand(['fault', ...argv], env);

describe('dcp-emu fault arguments', () => {
  it('add: kind, scope, count, seed and the kind’s own options', () => {
    expect(parse('add', 'crashWorker', '--after', '3', '--job', 'j1', '--times', '2', '--seed', '7')).toEqual(
      {
        kind: 'fault',
        dataDir: '/tmp/d',
        action: 'add',
        spec: { kind: 'crashWorker', afterSlices: 3, job: 'j1', times: 2, seed: 7 },
      },
    );
    expect(
      parse('add', 'delayResult', '--delay', '2s', '--times', 'always', '--probability', '0.5'),
    ).toMatchObject({
      spec: { kind: 'delayResult', ms: 2000, times: 'always', probability: 0.5 },
    });
    expect(parse('add', 'bankDown', '--duration', '10m')).toMatchObject({
      spec: { kind: 'bankDown', durationMs: 600_000 },
    });
    expect(parse('add', 'corruptResult', '--value', '{"x":1}')).toMatchObject({ spec: { value: { x: 1 } } });
    expect(parse('add', 'corruptResult', '--value', 'oops')).toMatchObject({ spec: { value: 'oops' } });
    expect(parse('add', 'refuseTask', '--answer', 'error', '--worker', '0xabc')).toMatchObject({
      spec: { kind: 'refuseTask', answer: 'error', worker: '0xabc' },
    });
  });

  it('list, clear, help', () => {
    expect(parse('list', '--json')).toMatchObject({ action: 'list', json: true });
    expect(parse('clear')).toEqual({ kind: 'fault', dataDir: '/tmp/d', action: 'clear' });
    expect(parse('clear', 'f3')).toMatchObject({ action: 'clear', id: 'f3' });
    expect(parse('--help')).toEqual({ kind: 'help', exitCode: 0, command: 'fault' });
  });

  it('refuses what the scheduler would refuse, as usage errors', () => {
    expect(() => parse('add')).toThrow(UsageError);
    expect(() => parse('add', 'meteor')).toThrow(/needs a kind/);
    expect(() => parse('add', 'delayTask')).toThrow(/needs --ms/);
    expect(() => parse('add', 'disconnectClient')).toThrow(/needs --job/);
    expect(() => parse('add', 'crashWorker', '--how', 'gently')).toThrow(/kill or drop/);
    expect(() => parse('add', 'dropResult', '--probability', '3')).toThrow(/0 to 1/);
    expect(parse('add', 'dropResult', '--keep-lease')).toMatchObject({
      spec: { kind: 'dropResult', keepLease: true },
    });
    expect(() => parse('add', 'crashWorker', '--keep-lease')).toThrow(/dropResult only/);
    expect(() => parse('remove')).toThrow(UsageError);
  });

  it('durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration(42)).toBe(42);
    expect(() => parseDuration('soon')).toThrow();
  });
});
