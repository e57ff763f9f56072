import type { PrismaDb, Provider } from '@dcp-emu/db';
import { type Clock, type IdGenerator, randomIds, systemClock } from '../ledger/ports';
import { BridgeAccountUseCase } from './bridge-account.usecase';
import { BridgeHistoryUseCase } from './bridge-history.usecase';
import type { BridgeStore } from './bridge-store';
import { DepositUseCase } from './deposit.usecase';
import { PrismaBridgeStore } from './prisma-bridge.store';
import { WithdrawUseCase } from './withdraw.usecase';

export interface BridgeOptions {
  readonly store: BridgeStore;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

/** Every bridge use case over one store; each member has an `execute` method. */
export function createBridge(options: BridgeOptions) {
  const deps = { store: options.store, clock: options.clock ?? systemClock, ids: options.ids ?? randomIds };
  return {
    store: options.store,
    withdraw: new WithdrawUseCase(deps),
    deposit: new DepositUseCase(deps),
    account: new BridgeAccountUseCase(deps),
    history: new BridgeHistoryUseCase(deps),
  };
}

export type Bridge = ReturnType<typeof createBridge>;

/** The bridge over the stack's database (the same one the bank ledger uses). */
export function createPrismaBridge(
  db: { prisma: PrismaDb; provider: Provider },
  options: Omit<BridgeOptions, 'store'> = {},
): Bridge {
  return createBridge({ ...options, store: new PrismaBridgeStore(db.prisma, db.provider) });
}
