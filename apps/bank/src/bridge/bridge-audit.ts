import type { BridgeSnapshot } from './bridge-store';
import { chainTransactionHash } from './chain';

export interface BridgeAudit {
  /** empty when every rule holds */
  readonly problems: string[];
  /** Σ chain balances */
  readonly onChain: bigint;
  /** the bank's bridge account balance */
  readonly bridged: bigint;
}

/**
 * Checks the bridge's rules on a snapshot: Σ chain balances = the bank's bridge account (everything
 * on the chain came through the bridge); each chain balance = its withdrawals − its deposits, never
 * negative; blocks numbered 1…height without gaps, one transaction each; every hash recomputes;
 * one movement per (address, nonce).
 */
export function auditBridge(snapshot: BridgeSnapshot): BridgeAudit {
  const problems: string[] = [];
  const fromChain = new Map<string, bigint>();
  const nonces = new Set<string>();
  snapshot.transactions.forEach((t, i) => {
    if (t.blockNumber !== i + 1) problems.push(`block ${i + 1} is missing (found ${t.blockNumber})`);
    if (t.amount <= 0n) problems.push(`chain transaction ${t.hash} moves ${t.amount}`);
    if (chainTransactionHash(t) !== t.hash) problems.push(`block ${t.blockNumber}: hash does not recompute`);
    const key = `${t.address}|${t.nonce}`;
    if (nonces.has(key)) problems.push(`nonce ${t.nonce} of ${t.address} used twice`);
    nonces.add(key);
    const delta = t.kind === 'withdrawal' ? t.amount : -t.amount;
    fromChain.set(t.address, (fromChain.get(t.address) ?? 0n) + delta);
  });
  if (snapshot.height !== snapshot.transactions.length) {
    problems.push(`chain head ${snapshot.height} ≠ ${snapshot.transactions.length} blocks`);
  }
  let onChain = 0n;
  const seen = new Set<string>();
  for (const a of snapshot.chainAccounts) {
    seen.add(a.address);
    onChain += a.balance;
    if (a.balance < 0n) problems.push(`chain account ${a.address} is negative: ${a.balance}`);
    const expected = fromChain.get(a.address) ?? 0n;
    if (expected !== a.balance)
      problems.push(`chain account ${a.address}: balance ${a.balance} ≠ transactions ${expected}`);
  }
  for (const [address, sum] of fromChain) {
    if (!seen.has(address) && sum !== 0n)
      problems.push(`chain transactions of ${address} without an account`);
  }
  const bridged = snapshot.bridgeAccount?.balance ?? 0n;
  if (onChain !== bridged) problems.push(`Σ chain balances ${onChain} ≠ bridge account ${bridged}`);
  return { problems, onChain, bridged };
}
