import { type AccountId, parseAccountId } from '../ledger/account-id';
import { LedgerErrors } from '../ledger/errors';
import type { LedgerStore } from '../ledger/store';

export interface AccountBalance {
  readonly address: AccountId;
  /** spendable base units */
  readonly balance: bigint;
  /** base units sitting in this account's open holds */
  readonly held: bigint;
  readonly openHolds: number;
}

/** An account's spendable balance and its escrow (4.x `viewAccount` shape). ENOACCOUNT if unknown. */
export class BalanceUseCase {
  constructor(private readonly deps: { readonly store: LedgerStore }) {}

  async execute(address: string): Promise<AccountBalance> {
    const id = parseAccountId(address);
    const account = await this.deps.store.getAccount(id);
    if (!account) throw LedgerErrors.noAccount(id);
    const holds = await this.deps.store.listHolds(id, 'open');
    return {
      address: id,
      balance: account.balance,
      held: holds.reduce((sum, h) => sum + h.remaining, 0n),
      openHolds: holds.length,
    };
  }
}
