import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import type { AccountId } from './account-id';
import { captureFromHold, holdProblems, increaseHold, openHold, releaseHold } from './hold';
import type { HoldId } from './journal';

const payer = `0x${'1'.repeat(40)}` as AccountId;
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:01:00Z');

function failure(fn: () => unknown): DcpError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DcpError);
    return e as DcpError;
  }
  throw new Error('expected a DcpError');
}

describe('the hold state machine', () => {
  const fresh = () => openHold('hold_1' as HoldId, payer, 100n, { job: 'j1' }, t0);

  it('opens with everything remaining', () => {
    const h = fresh();
    expect(h).toMatchObject({
      status: 'open',
      held: 100n,
      captured: 0n,
      released: 0n,
      remaining: 100n,
      closedAt: null,
    });
    expect(holdProblems(h)).toEqual([]);
  });

  it('captures until the hold is empty, then refuses with ENOFUNDS', () => {
    let h = captureFromHold(fresh(), 60n);
    h = captureFromHold(h, 40n);
    expect(h).toMatchObject({ captured: 100n, remaining: 0n, status: 'open' });
    const e = failure(() => captureFromHold(h, 1n));
    expect(e.code).toBe(DcpErrorCode.ENOFUNDS);
    expect(e.message).toBe('hold hold_1 has 0 DCC left; the capture needs 0.000000001 DCC');
    expect(holdProblems(h)).toEqual([]);
  });

  it('grows by increases while open', () => {
    const h = increaseHold(captureFromHold(fresh(), 30n), 50n);
    expect(h).toMatchObject({ held: 150n, captured: 30n, remaining: 120n });
    expect(holdProblems(h)).toEqual([]);
  });

  it('releases what is left once; a second release moves nothing', () => {
    const first = releaseHold(captureFromHold(fresh(), 30n), t1);
    expect(first.amount).toBe(70n);
    expect(first.hold).toMatchObject({ status: 'released', released: 70n, remaining: 0n, closedAt: t1 });
    const second = releaseHold(first.hold, new Date());
    expect(second.amount).toBe(0n);
    expect(second.hold).toBe(first.hold);
  });

  it('refuses captures and increases after release with EJOBSTATE', () => {
    const { hold } = releaseHold(fresh(), t1);
    expect(failure(() => captureFromHold(hold, 1n)).code).toBe(DcpErrorCode.EJOBSTATE);
    expect(failure(() => increaseHold(hold, 1n)).code).toBe(DcpErrorCode.EJOBSTATE);
  });

  it('reports inconsistent numbers', () => {
    expect(holdProblems({ ...fresh(), remaining: 99n })).toHaveLength(1);
    expect(holdProblems({ ...fresh(), status: 'released' })).toEqual([
      'released hold hold_1 still has funds',
    ]);
  });
});
