// The emulated blockchain bridge (EMULATED: no real chain): bank ↔ chain movements, the chain's
// ledger, its audit, and the Nest module serving `/api/bridge`.
export { type BridgeAccount, BridgeAccountUseCase } from './bridge-account.usecase';
export { type BridgeAudit, auditBridge } from './bridge-audit';
export { BridgeHistoryUseCase } from './bridge-history.usecase';
export {
  authorize,
  type BridgeDeps,
  type BridgeReceipt,
  bridgeMessage,
  moveOverBridge,
  parseNonce,
  type SignedBridgeRequest,
} from './bridge-movement';
export type {
  BridgeSnapshot,
  BridgeStore,
  BridgeTx,
  ChainAccountRecord,
  ChainHistoryQuery,
  StoredChainTransaction,
} from './bridge-store';
export { type Bridge, type BridgeOptions, createBridge, createPrismaBridge } from './bridge';
export { BRIDGE, BridgeController } from './bridge.controller';
export { BridgeModule } from './bridge.module';
export {
  BRIDGE_ACCOUNT,
  BRIDGE_MESSAGE_TYPES,
  type BridgeKind,
  type ChainTransaction,
  canonicalChainTransaction,
  chainTransactionHash,
  EMULATED_CHAIN,
} from './chain';
export { DepositUseCase } from './deposit.usecase';
export { PrismaBridgeStore, type PrismaBridgeStoreOptions } from './prisma-bridge.store';
export { WithdrawUseCase } from './withdraw.usecase';
