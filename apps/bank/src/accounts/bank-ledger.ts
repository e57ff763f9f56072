import { CaptureBatchUseCase } from '../escrow/capture-batch.usecase';
import { type CaptureOptions, CaptureUseCase } from '../escrow/capture.usecase';
import { HoldUseCase } from '../escrow/hold.usecase';
import { IncreaseHoldUseCase } from '../escrow/increase-hold.usecase';
import { ReleaseUseCase } from '../escrow/release.usecase';
import { DEV_FAUCET, type FaucetPolicy } from '../faucet/faucet-policy';
import { MintUseCase } from '../faucet/mint.usecase';
import { type Clock, type IdGenerator, randomIds, systemClock } from '../ledger/ports';
import type { LedgerStore } from '../ledger/store';
import { BalanceUseCase } from './balance.usecase';
import { HistoryUseCase } from './history.usecase';
import { TransferUseCase } from './transfer.usecase';

export interface BankLedgerOptions {
  readonly store: LedgerStore;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly faucet?: FaucetPolicy;
  readonly capture?: CaptureOptions;
}

/**
 * Every money use case over one store, for in-process callers (the scheduler's bank client, the
 * teller, tests). Each member is a use case with an `execute` method.
 */
export function createBankLedger(options: BankLedgerOptions) {
  const deps = { store: options.store, clock: options.clock ?? systemClock, ids: options.ids ?? randomIds };
  return {
    store: options.store,
    hold: new HoldUseCase(deps),
    increaseHold: new IncreaseHoldUseCase(deps),
    capture: new CaptureUseCase(deps, options.capture),
    captureBatch: new CaptureBatchUseCase(deps),
    release: new ReleaseUseCase(deps),
    transfer: new TransferUseCase(deps),
    mint: new MintUseCase(deps, options.faucet ?? DEV_FAUCET),
    balance: new BalanceUseCase(deps),
    history: new HistoryUseCase(deps),
  };
}

export type BankLedger = ReturnType<typeof createBankLedger>;
