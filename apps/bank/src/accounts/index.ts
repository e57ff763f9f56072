export { type AccountBalance, BalanceUseCase } from './balance.usecase';
export { type BankLedger, type BankLedgerOptions, createBankLedger } from './bank-ledger';
export { type AccountHistory, type HistoryEntry, HistoryUseCase } from './history.usecase';
export { BatchRefused, PrismaLedgerStore, type PrismaLedgerStoreOptions } from './prisma-ledger.store';
export { type TransferRequest, type TransferResult, TransferUseCase } from './transfer.usecase';
