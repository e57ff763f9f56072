import { formatDcc } from '../ledger/amount';
import type { BridgeAccount } from './bridge-account.usecase';
import type { BridgeReceipt } from './bridge-movement';
import type { StoredChainTransaction } from './bridge-store';

/** JSON of a chain transaction: `{hash, kind, address, amount, blockNumber, at}`. */
export function chainTransactionJson(t: StoredChainTransaction) {
  return {
    hash: t.hash,
    kind: t.kind,
    address: t.address,
    amount: formatDcc(t.amount),
    blockNumber: t.blockNumber,
    at: t.at.toISOString(),
  };
}

/** JSON of a movement's receipt; a replay gives exactly the first answer. */
export function receiptJson(r: BridgeReceipt) {
  return {
    ...chainTransactionJson(r.transaction),
    bankBalance: formatDcc(r.bankBalance),
    chainBalance: formatDcc(r.chainBalance),
  };
}

export function bridgeAccountJson(a: BridgeAccount) {
  return {
    address: a.address,
    chainBalance: formatDcc(a.chainBalance),
    bankBalance: formatDcc(a.bankBalance),
  };
}
