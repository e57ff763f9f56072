import { parseAccountId } from '../ledger/account-id';
import type { BridgeStore, ChainHistoryQuery, StoredChainTransaction } from './bridge-store';

/** An address's chain transactions (withdrawals and deposits), newest first; empty if none. */
export class BridgeHistoryUseCase {
  constructor(private readonly deps: { readonly store: BridgeStore }) {}

  async execute(address: string, query: ChainHistoryQuery = {}): Promise<StoredChainTransaction[]> {
    return this.deps.store.transactions(parseAccountId(address), query);
  }
}
