import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { describe, expect, it } from 'vitest';
import { type AccountId, ISSUANCE_ACCOUNT } from './account-id';
import { dcc } from './amount';
import { releaseHold } from './hold';
import { bookKey, type HoldId, type NewTransaction } from './journal';
import { planCapture, planHold, planIncrease, planMint, planRelease, planTransfer } from './operations';

const payer = `0x${'1'.repeat(40)}` as AccountId;
const worker = `0x${'2'.repeat(40)}` as AccountId;
const scheduler = `0x${'3'.repeat(40)}` as AccountId;
const at = new Date('2026-02-01T00:00:00Z');
const stamp = (n: number, idempotencyKey?: string) => ({
  txId: `tx_${n}`,
  at,
  ...(idempotencyKey ? { idempotencyKey } : {}),
});

function legs(tx: NewTransaction): Record<string, bigint> {
  return Object.fromEntries(tx.postings.map((p) => [bookKey(p.book), p.amount]));
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DcpError);
    return (e as DcpError).code;
  }
  throw new Error('expected a DcpError');
}

describe('planning money movements', () => {
  it('mints against the issuance account', () => {
    const { tx } = planMint(stamp(1), payer, dcc('10'), 'faucet');
    expect(tx).toMatchObject({ id: 'tx_1', reason: 'mint', refs: { memo: 'faucet' }, createdAt: at });
    expect(legs(tx)).toEqual({
      [`account:${ISSUANCE_ACCOUNT}`]: -dcc('10'),
      [`account:${payer}`]: dcc('10'),
    });
  });

  it('transfers between two distinct user accounts only', () => {
    const { tx } = planTransfer(stamp(2, 'k'), payer, worker, 5n, { memo: 'thanks' });
    expect(tx.idempotencyKey).toBe('k');
    expect(legs(tx)).toEqual({ [`account:${payer}`]: -5n, [`account:${worker}`]: 5n });
    expect(code(() => planTransfer(stamp(3), payer, payer, 5n))).toBe(DcpErrorCode.EINVAL);
    expect(code(() => planTransfer(stamp(3), ISSUANCE_ACCOUNT, payer, 5n))).toBe(DcpErrorCode.EPERM);
    expect(code(() => planTransfer(stamp(3), payer, worker, 0n))).toBe(DcpErrorCode.EINVAL);
    expect(code(() => planTransfer(stamp(3), payer, worker, -5n))).toBe(DcpErrorCode.EINVAL);
  });

  it('settles a job: hold, top-up, captures with commission, release of the rest', () => {
    const held = planHold(stamp(1), 'hold_1' as HoldId, payer, dcc('1'), { job: 'job-1' });
    expect(legs(held.tx)).toEqual({ [`account:${payer}`]: -dcc('1'), 'hold:hold_1': dcc('1') });
    expect(held.tx.refs).toEqual({ job: 'job-1', hold: 'hold_1' });

    const topped = planIncrease(stamp(2), held.hold!, dcc('0.5'));
    expect(topped.hold!.remaining).toBe(dcc('1.5'));

    const captured = planCapture(stamp(3, 'job-1:1'), topped.hold!, {
      to: worker,
      amount: dcc('0.2'),
      commission: { to: scheduler, amount: dcc('0.02') },
      slice: 1,
      worker: 'w-1',
    });
    expect(legs(captured.tx)).toEqual({
      'hold:hold_1': -dcc('0.22'),
      [`account:${worker}`]: dcc('0.2'),
      [`account:${scheduler}`]: dcc('0.02'),
    });
    expect(captured.tx.refs).toEqual({ job: 'job-1', hold: 'hold_1', slice: 1, worker: 'w-1' });
    expect(captured.hold!.remaining).toBe(dcc('1.28'));

    const released = planRelease(stamp(4), captured.hold!);
    expect(released.amount).toBe(dcc('1.28'));
    expect(legs(released.tx!)).toEqual({ 'hold:hold_1': -dcc('1.28'), [`account:${payer}`]: dcc('1.28') });
    expect(released.hold.status).toBe('released');
  });

  it('merges payment and commission to the same account into one leg; a zero commission adds no leg', () => {
    const { hold } = planHold(stamp(1), 'hold_1' as HoldId, payer, 100n);
    const same = planCapture(stamp(2), hold!, {
      to: worker,
      amount: 7n,
      commission: { to: worker, amount: 3n },
    });
    expect(legs(same.tx)).toEqual({ 'hold:hold_1': -10n, [`account:${worker}`]: 10n });
    const free = planCapture(stamp(3), hold!, {
      to: worker,
      amount: 7n,
      commission: { to: scheduler, amount: 0n },
    });
    expect(legs(free.tx)).toEqual({ 'hold:hold_1': -7n, [`account:${worker}`]: 7n });
  });

  it('refuses captures the hold cannot cover and forged amounts', () => {
    const { hold } = planHold(stamp(1), 'hold_1' as HoldId, payer, 100n);
    expect(code(() => planCapture(stamp(2), hold!, { to: worker, amount: 101n }))).toBe(
      DcpErrorCode.ENOFUNDS,
    );
    expect(
      code(() =>
        planCapture(stamp(2), hold!, { to: worker, amount: 90n, commission: { to: scheduler, amount: 11n } }),
      ),
    ).toBe(DcpErrorCode.ENOFUNDS);
    expect(code(() => planCapture(stamp(2), hold!, { to: worker, amount: -1n }))).toBe(DcpErrorCode.EINVAL);
    expect(
      code(() =>
        planCapture(stamp(2), hold!, {
          to: worker,
          amount: 50n,
          commission: { to: scheduler, amount: -10n },
        }),
      ),
    ).toBe(DcpErrorCode.EINVAL);
    expect(code(() => planCapture(stamp(2), hold!, { to: ISSUANCE_ACCOUNT, amount: 5n }))).toBe(
      DcpErrorCode.EPERM,
    );
  });

  it('releases an emptied or released hold without a transaction', () => {
    const { hold } = planHold(stamp(1), 'hold_1' as HoldId, payer, 100n);
    const emptied = planCapture(stamp(2), hold!, { to: worker, amount: 100n }).hold!;
    const r = planRelease(stamp(3), emptied);
    expect(r.amount).toBe(0n);
    expect(r.tx).toBeUndefined();
    expect(r.hold.status).toBe('released');
    const again = planRelease(stamp(4), releaseHold(hold!, at).hold);
    expect(again.tx).toBeUndefined();
  });
});
