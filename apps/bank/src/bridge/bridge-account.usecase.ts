import { type AccountId, parseAccountId } from '../ledger/account-id';
import type { BridgeStore } from './bridge-store';

export interface BridgeAccount {
  readonly address: AccountId;
  /** balance on the emulated chain (0 if the address never had one) */
  readonly chainBalance: bigint;
  /** spendable bank balance (0 if the bank never saw the address) */
  readonly bankBalance: bigint;
}

/**
 * Both sides of one address. An address neither side has seen is two zero balances (the portal
 * shows a new user's empty wallet); a malformed address is EINVAL.
 */
export class BridgeAccountUseCase {
  constructor(private readonly deps: { readonly store: BridgeStore }) {}

  async execute(address: string): Promise<BridgeAccount> {
    const id = parseAccountId(address);
    const [chain, bank] = await Promise.all([
      this.deps.store.chainAccount(id),
      this.deps.store.bankAccount(id),
    ]);
    return { address: id, chainBalance: chain?.balance ?? 0n, bankBalance: bank?.balance ?? 0n };
  }
}
