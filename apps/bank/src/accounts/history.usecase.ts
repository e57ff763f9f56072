import { type AccountId, parseAccountId } from '../ledger/account-id';
import { LedgerErrors } from '../ledger/errors';
import { deltaFor, type JournalTransaction } from '../ledger/journal';
import { type HistoryQuery, historyLimit, type LedgerStore } from '../ledger/store';

export interface HistoryEntry {
  readonly transaction: JournalTransaction;
  /** this transaction's net effect on the account, in base units */
  readonly delta: bigint;
}

export interface AccountHistory {
  readonly address: AccountId;
  /** newest first */
  readonly entries: HistoryEntry[];
  /** pass as `beforeSeq` for the next (older) page; absent at the end */
  readonly nextBeforeSeq?: number;
}

/** The journal transactions that touched an account, newest first, paged. ENOACCOUNT if unknown. */
export class HistoryUseCase {
  constructor(private readonly deps: { readonly store: LedgerStore }) {}

  async execute(address: string, query: HistoryQuery = {}): Promise<AccountHistory> {
    const id = parseAccountId(address);
    if (!(await this.deps.store.getAccount(id))) throw LedgerErrors.noAccount(id);
    const transactions = await this.deps.store.history(id, query);
    const entries = transactions.map((transaction) => ({ transaction, delta: deltaFor(transaction, id) }));
    const last = transactions.at(-1);
    const full = last !== undefined && transactions.length >= historyLimit(query);
    return { address: id, entries, ...(full && last ? { nextBeforeSeq: last.seq } : {}) };
  }
}
