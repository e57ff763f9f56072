/**
 * The stack code of `dcp-emu up` / `exec` (packages/cli), reused as is. Nothing here loads
 * @dcp-emu/protocol (ESM-only crypto underneath): jest test files can load this package and attach
 * to a stack; what needs the protocol is required when called (startEmulator, fund).
 */
export { resetStack, needsSeed, seed, devSettingsFile, readDevSettings } from '@dcp-emu/cli/dist/seeding';
export { saveState, restoreState, stateOwners } from '@dcp-emu/cli/dist/admin';
export { balanceOf, fundTo } from '@dcp-emu/cli/dist/bank-client';
export { ensureBuilt } from '@dcp-emu/cli/dist/build';
export { freePortBase } from '@dcp-emu/cli/dist/exec';
export { type DevAccount, devAccounts } from '@dcp-emu/cli/dist/dev-accounts';
export {
  ROOT,
  type Running,
  type ServiceName,
  specs,
  stopAll,
  tail,
  waitReady,
} from '@dcp-emu/cli/dist/stack';
export {
  adminTokenFile,
  readStackInfo,
  removeStackInfo,
  type StackInfo,
  writeStackInfo,
} from '@dcp-emu/cli/dist/stack-file';
export { SupervisedService } from '@dcp-emu/cli/dist/supervise';
export {
  addFault,
  clearFaults,
  type Fault,
  type FaultSpec,
  listFaults,
} from '@dcp-emu/cli/dist/faults-client';
