// The bank's public API: the ledger (use cases, stores, amounts) for in-process callers such as the
// scheduler, and the Nest service pieces (AppModule, LedgerModule, the DCP teller, REST schemas).
export * from './accounts';
export {
  SignedTransferUseCase,
  TRANSFER_MESSAGE_TYPE,
  type TransferIntent,
  transferMessage,
} from './api/signed-transfer';
export { type JobTrail, JobTrailUseCase } from './api/job-trail.usecase';
export { AppModule } from './app.module';
export * from './bridge';
export { type BankConfig, loadBankConfig } from './config';
export * from './escrow';
export {
  ConfiguredSchedulerTrust,
  ESCROW_PATH,
  ESCROW_SERVICE,
  escrowOperations,
  type SchedulerTrust,
} from './escrow/escrow-service';
export * from './faucet';
export * from './ledger';
export { BANK_LEDGER, LedgerModule } from './ledger.module';
export { TELLER_PATH, TELLER_SERVICE, tellerOperations } from './teller/teller';
export { TELLER_TARGET, TellerModule, TellerServer } from './teller/teller.module';
