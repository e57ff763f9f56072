import { systemClock } from '@dcp-emu/protocol/node';
import { DcpErrorCode } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import type { BankPort, HoldView } from '../ports/bank.port';
import { FaultPlan } from './fault-plan';
import { faultyBank } from './faulty-bank';

const view: HoldView = { hold: 'h1', held: '1', captured: '0', remaining: '1', status: 'open' };

/** A bank that answers every call and counts them. */
function countingBank() {
  const calls: string[] = [];
  const answer =
    <T>(name: string, value: T) =>
    async (): Promise<T> => {
      calls.push(name);
      return value;
    };
  const bank: BankPort = {
    hold: answer('hold', view),
    increase: answer('increase', view),
    capture: answer('capture', { ...view, transaction: 't' }),
    captureBatch: answer('captureBatch', { results: [], holds: [] }),
    release: answer('release', { ...view, released: '1' }),
    close: answer('close', undefined),
  };
  return { bank, calls };
}

describe('faultyBank', () => {
  it('passes every call through while no bankDown fault is on', async () => {
    const { bank, calls } = countingBank();
    const faults = new FaultPlan({ ...systemClock, now: () => 0 });
    faults.add({ kind: 'dropResult' }); // armed, but not the bank
    const b = faultyBank(bank, faults);
    await b.hold({} as Parameters<BankPort['hold']>[0]);
    await b.captureBatch([]);
    await b.release('h1');
    expect(calls).toEqual(['hold', 'captureBatch', 'release']);
  });

  it('fails every call with ENOBANK while the bank is down, never reaching it; back afterwards', async () => {
    const { bank, calls } = countingBank();
    const clock = { ...systemClock, t: 0, now: () => clock.t };
    const faults = new FaultPlan(clock);
    const b = faultyBank(bank, faults);
    faults.add({ kind: 'bankDown', durationMs: 1000 });
    for (const call of [
      () => b.hold({} as Parameters<BankPort['hold']>[0]),
      () => b.increase({ hold: 'h1', amount: '1', key: 'k' }),
      () => b.capture({} as Parameters<BankPort['capture']>[0]),
      () => b.captureBatch([]),
      () => b.release('h1'),
    ])
      await expect(call()).rejects.toMatchObject({ code: DcpErrorCode.ENOBANK });
    expect(calls).toEqual([]);
    await b.close(); // closing is never refused
    clock.t = 1000;
    await b.release('h1');
    expect(calls).toEqual(['close', 'release']);
  });
});
