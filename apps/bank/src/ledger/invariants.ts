import { ISSUANCE_ACCOUNT } from './account-id';
import { holdProblems } from './hold';
import { bookKey } from './journal';
import type { LedgerSnapshot } from './store';

export interface LedgerAudit {
  /** empty when every rule holds */
  readonly problems: string[];
  /** Σ mint transactions */
  readonly minted: bigint;
  /** Σ user account balances */
  readonly balances: bigint;
  /** Σ remaining funds of open holds */
  readonly held: bigint;
}

/**
 * Checks the ledger's rules on a snapshot:
 * every transaction balanced; no user balance and no hold below zero; each account balance and each
 * hold's remaining equal to the sum of its postings; Σ balances + Σ open holds = Σ minted = −issuance;
 * idempotency keys unique.
 */
export function auditLedger(snapshot: LedgerSnapshot): LedgerAudit {
  const problems: string[] = [];
  const fromJournal = new Map<string, bigint>();
  const keys = new Set<string>();
  let minted = 0n;
  for (const t of snapshot.transactions) {
    let sum = 0n;
    if (t.postings.length < 2) problems.push(`transaction ${t.id} has ${t.postings.length} posting(s)`);
    for (const p of t.postings) {
      if (p.amount === 0n) problems.push(`transaction ${t.id} has a zero posting`);
      sum += p.amount;
      const key = bookKey(p.book);
      fromJournal.set(key, (fromJournal.get(key) ?? 0n) + p.amount);
      if (t.reason === 'mint' && p.amount > 0n) minted += p.amount;
    }
    if (sum !== 0n) problems.push(`transaction ${t.id} (${t.reason}) is unbalanced by ${sum}`);
    if (t.idempotencyKey !== undefined) {
      if (keys.has(t.idempotencyKey)) problems.push(`idempotency key ${t.idempotencyKey} used twice`);
      keys.add(t.idempotencyKey);
    }
  }
  let balances = 0n;
  let issuance = 0n;
  const accountKeys = new Set<string>();
  for (const a of snapshot.accounts) {
    const key = bookKey({ kind: 'account', account: a.id });
    accountKeys.add(key);
    const journal = fromJournal.get(key) ?? 0n;
    if (journal !== a.balance) problems.push(`account ${a.id}: balance ${a.balance} ≠ journal ${journal}`);
    if (a.kind === 'user') {
      if (a.balance < 0n) problems.push(`account ${a.id} is negative: ${a.balance}`);
      balances += a.balance;
    } else if (a.id === ISSUANCE_ACCOUNT) {
      issuance = a.balance;
    }
  }
  let held = 0n;
  const holdKeys = new Set<string>();
  for (const h of snapshot.holds) {
    const key = bookKey({ kind: 'hold', hold: h.id });
    holdKeys.add(key);
    problems.push(...holdProblems(h));
    const journal = fromJournal.get(key) ?? 0n;
    if (journal !== h.remaining) problems.push(`hold ${h.id}: remaining ${h.remaining} ≠ journal ${journal}`);
    if (h.status === 'open') held += h.remaining;
  }
  for (const [key, sum] of fromJournal) {
    if (!accountKeys.has(key) && !holdKeys.has(key) && sum !== 0n)
      problems.push(`journal posts to unknown ${key}`);
  }
  if (balances + held !== minted) {
    problems.push(`Σ balances ${balances} + Σ open holds ${held} ≠ Σ minted ${minted}`);
  }
  if (-issuance !== minted) problems.push(`issuance account ${issuance} ≠ −Σ minted ${minted}`);
  return { problems, minted, balances, held };
}
