import type { AccountBalance } from '../accounts/balance.usecase';
import type { AccountHistory } from '../accounts/history.usecase';
import { formatDcc } from '../ledger/amount';
import type { Hold } from '../ledger/hold';
import { holdView, transactionView } from '../ledger/views';
import type { JobTrail } from './job-trail.usecase';

export function accountJson(balance: AccountBalance, openHolds: Hold[]) {
  return {
    address: balance.address,
    balance: formatDcc(balance.balance),
    held: formatDcc(balance.held),
    openHolds: openHolds.map(holdView),
  };
}

export function historyJson(h: AccountHistory) {
  return {
    address: h.address,
    entries: h.entries.map((e) => ({
      delta: formatDcc(e.delta),
      transaction: transactionView(e.transaction),
    })),
    ...(h.nextBeforeSeq !== undefined ? { nextBefore: h.nextBeforeSeq } : {}),
  };
}

export function trailJson(t: JobTrail) {
  return {
    job: t.job,
    escrowed: formatDcc(t.escrowed),
    paid: formatDcc(t.paid),
    commission: formatDcc(t.commission),
    refunded: formatDcc(t.refunded),
    holds: t.holds.map(holdView),
    steps: t.steps.map((s) => ({ kind: s.kind, transaction: transactionView(s.transaction) })),
  };
}
