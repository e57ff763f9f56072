import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { AccountId } from './account-id';
import { formatDcc } from './amount';
import type { HoldId, TransactionRefs } from './journal';

/**
 * An escrow hold: funds moved out of an account's balance, waiting to be paid to workers (capture)
 * or given back (release). `open` → `released` is the only transition; a released hold takes no
 * more captures or increases. Always `remaining = held − captured − released ≥ 0`.
 */
export type HoldStatus = 'open' | 'released';

export interface Hold {
  readonly id: HoldId;
  /** the account the funds came from and go back to */
  readonly account: AccountId;
  readonly status: HoldStatus;
  /** everything ever moved into the hold */
  readonly held: bigint;
  /** paid out by captures (payments plus commissions) */
  readonly captured: bigint;
  /** given back to the account */
  readonly released: bigint;
  readonly remaining: bigint;
  readonly refs: TransactionRefs;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
}

export function openHold(
  id: HoldId,
  account: AccountId,
  amount: bigint,
  refs: TransactionRefs,
  at: Date,
): Hold {
  return {
    id,
    account,
    status: 'open',
    held: amount,
    captured: 0n,
    released: 0n,
    remaining: amount,
    refs,
    createdAt: at,
    closedAt: null,
  };
}

function mustBeOpen(hold: Hold, action: string): void {
  if (hold.status !== 'open') {
    throw new DcpError(DcpErrorCode.EJOBSTATE, `cannot ${action} hold ${hold.id}: it was released`, {
      hold: hold.id,
    });
  }
}

export function increaseHold(hold: Hold, amount: bigint): Hold {
  mustBeOpen(hold, 'increase');
  return { ...hold, held: hold.held + amount, remaining: hold.remaining + amount };
}

/** Takes `total` out of the hold for a capture; ENOFUNDS if the hold does not cover it. */
export function captureFromHold(hold: Hold, total: bigint): Hold {
  mustBeOpen(hold, 'capture from');
  if (total > hold.remaining) {
    throw new DcpError(
      DcpErrorCode.ENOFUNDS,
      `hold ${hold.id} has ${formatDcc(hold.remaining)} DCC left; the capture needs ${formatDcc(total)} DCC`,
      { hold: hold.id, remaining: formatDcc(hold.remaining), needed: formatDcc(total) },
    );
  }
  return { ...hold, captured: hold.captured + total, remaining: hold.remaining - total };
}

/** Closes the hold; what is left goes back. Releasing a released hold is a no-op returning 0n. */
export function releaseHold(hold: Hold, at: Date): { hold: Hold; amount: bigint } {
  if (hold.status === 'released') return { hold, amount: 0n };
  const amount = hold.remaining;
  return {
    hold: { ...hold, status: 'released', released: hold.released + amount, remaining: 0n, closedAt: at },
    amount,
  };
}

/** Problems with one hold's numbers, empty when consistent. */
export function holdProblems(hold: Hold): string[] {
  const problems: string[] = [];
  if (hold.remaining < 0n) problems.push(`hold ${hold.id} has negative remaining ${hold.remaining}`);
  if (hold.held - hold.captured - hold.released !== hold.remaining) {
    problems.push(`hold ${hold.id}: held − captured − released ≠ remaining`);
  }
  if (hold.status === 'released' && hold.remaining !== 0n)
    problems.push(`released hold ${hold.id} still has funds`);
  return problems;
}
