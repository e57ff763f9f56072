import { systemClock } from '@dcp-emu/protocol/node';
import { DcpErrorCode } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import { FaultPlan, seededRandom } from './fault-plan';

const worker = { peer: '0xAbC0000000000000000000000000000000000001', workerId: 'w-1' };
const other = { peer: '0x0000000000000000000000000000000000000002', workerId: 'w-2' };

function plan(start = 1_000) {
  const clock = { ...systemClock, t: start, now: () => clock.t };
  return { faults: new FaultPlan(clock), clock };
}

describe('FaultPlan', () => {
  it('is disarmed with no fault, and every hook answers nothing', () => {
    const { faults } = plan();
    expect(faults.armed).toBe(false);
    expect(faults.forTask(worker)).toBeUndefined();
    expect(faults.forResult(worker, 'j1')).toBeUndefined();
    expect(faults.afterResult(worker, 'j1')).toBeUndefined();
    expect(faults.bankFailure()).toBeUndefined();
  });

  it('a one-shot result fault acts once, in its scope only, and is then spent (listed, disarmed)', () => {
    const { faults } = plan();
    const f = faults.add({ kind: 'dropResult', job: 'j1', worker: 'W-1' });
    expect(faults.armed).toBe(true);
    expect(faults.forResult(worker, 'j2')).toBeUndefined();
    expect(faults.forResult(other, 'j1')).toBeUndefined();
    expect(faults.forResult(worker, 'j1')).toEqual({ kind: 'dropResult', fault: f.id, keepLease: false });
    expect(faults.forResult(worker, 'j1')).toBeUndefined();
    expect(faults.armed).toBe(false);
    expect(faults.list()).toMatchObject([{ id: f.id, fired: 1, spent: true }]);
  });

  it('counted and "always" faults; clear and remove', () => {
    const { faults } = plan();
    const a = faults.add({ kind: 'delayResult', ms: 5, times: 2 });
    expect(faults.forResult(worker, 'j')).toMatchObject({ kind: 'delayResult', ms: 5 });
    expect(faults.forResult(worker, 'j')).toMatchObject({ kind: 'delayResult' });
    expect(faults.forResult(worker, 'j')).toBeUndefined();
    const b = faults.add({ kind: 'corruptResult', times: 'always', value: 7 });
    for (let i = 0; i < 5; i++) expect(faults.forResult(worker, 'j')).toMatchObject({ value: 7 });
    expect(faults.get(b.id)?.fired).toBe(5);
    expect(faults.remove(a.id)).toBe(true);
    expect(faults.remove(a.id)).toBe(false);
    expect(faults.clear()).toBe(1);
    expect(faults.armed).toBe(false);
    expect(faults.list()).toEqual([]);
  });

  it('probability draws from a seeded generator: the same seed hits the same events', () => {
    const hits = (seed: number) => {
      const { faults } = plan();
      faults.add({ kind: 'dropResult', probability: 0.3, times: 'always', seed });
      return Array.from({ length: 40 }, () => (faults.forResult(worker, 'j') ? 1 : 0)).join('');
    };
    expect(hits(42)).toBe(hits(42));
    expect(hits(42)).not.toBe(hits(43));
    const n = [...hits(42)].filter((c) => c === '1').length;
    expect(n).toBeGreaterThan(3);
    expect(n).toBeLessThan(25);
    const r = seededRandom(9);
    expect(r()).toBe(seededRandom(9)());
  });

  it('crashWorker fires after N accepted results of its scope; disconnectClient after N results of its job', () => {
    const { faults } = plan();
    const crash = faults.add({ kind: 'crashWorker', afterSlices: 3, job: 'j1' });
    const drop = faults.add({ kind: 'disconnectClient', job: 'j1', afterResults: 2 });
    expect(faults.afterResult(worker, 'j1')).toBeUndefined();
    expect(faults.afterResult(worker, 'j2')).toBeUndefined();
    expect(faults.afterResult(other, 'j1')).toEqual({ disconnect: { fault: drop.id } });
    expect(faults.afterResult(worker, 'j1')).toEqual({ crash: { fault: crash.id, how: 'kill' } });
    expect(faults.afterResult(worker, 'j1')).toBeUndefined();
    expect(faults.armed).toBe(false);
  });

  it('task faults: refused (no work or an error), a job left out, delays', () => {
    const { faults } = plan();
    faults.add({ kind: 'refuseTask', job: 'j1', times: 'always' });
    faults.add({ kind: 'delayTask', ms: 100, worker: worker.peer, times: 'always' });
    expect(faults.forTask(other)).toEqual({ skipJobs: ['j1'], delays: [] });
    const p = faults.forTask(worker);
    expect(p?.skipJobs).toEqual(['j1']);
    expect(p?.delays).toMatchObject([{ ms: 100 }]);
    expect(faults.taskDelayed(p?.delays[0]?.fault as string)).toBe(true);
    faults.clear();
    faults.add({ kind: 'refuseTask', answer: 'error' });
    expect(faults.forTask(worker)?.refuse?.error?.code).toBe(DcpErrorCode.EPIPE);
    expect(faults.forTask(worker)).toBeUndefined();
  });

  it('bankDown fails bank calls with ENOBANK for its duration on the scheduler clock', () => {
    const { faults, clock } = plan();
    const f = faults.add({ kind: 'bankDown', durationMs: 1_000 });
    expect(f.until).toBe(new Date(2_000).toISOString());
    expect(faults.bankFailure()?.code).toBe(DcpErrorCode.ENOBANK);
    clock.t = 1_999;
    expect(faults.bankFailure()).toBeDefined();
    clock.t = 2_000;
    expect(faults.bankFailure()).toBeUndefined();
    expect(faults.armed).toBe(false);
    expect(faults.list()[0]).toMatchObject({ spent: true, fired: 1 });
  });

  it('refuses malformed faults', () => {
    const { faults } = plan();
    expect(() => faults.add({ kind: 'nope' })).toThrow();
    expect(() => faults.add({ kind: 'delayResult' })).toThrow();
    expect(() => faults.add({ kind: 'disconnectClient' })).toThrow();
    expect(() => faults.add({ kind: 'dropResult', probability: 2 })).toThrow();
  });
});
