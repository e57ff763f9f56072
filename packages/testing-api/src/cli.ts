/**
 * The stack code of `dcp-emu up` / `exec` (packages/cli), reused as is. Nothing here loads
 * @dcp-emu/protocol (ESM-only crypto underneath): jest test files can load this package and attach
 * to a stack; what needs the protocol is imported when called (startEmulator, fund).
 */
export { resetStack, needsSeed, seed, devSettingsFile, readDevSettings } from '@dcp-emu/cli/lib/seeding';
export { saveState, restoreState, stateOwners } from '@dcp-emu/cli/lib/admin';
export { balanceOf, fundTo } from '@dcp-emu/cli/lib/bank-client';
export { ensureBuilt } from '@dcp-emu/cli/lib/build';
export { freePortBase } from '@dcp-emu/cli/lib/exec';
export { type DevAccount, devAccounts } from '@dcp-emu/cli/lib/dev-accounts';
export {
  ROOT,
  type Running,
  type ServiceName,
  specs,
  stopAll,
  tail,
  waitReady,
} from '@dcp-emu/cli/lib/stack';
export {
  adminTokenFile,
  readStackInfo,
  removeStackInfo,
  type StackInfo,
  writeStackInfo,
} from '@dcp-emu/cli/lib/stack-file';
export { SupervisedService } from '@dcp-emu/cli/lib/supervise';
export {
  addFault,
  clearFaults,
  type Fault,
  type FaultSpec,
  listFaults,
} from '@dcp-emu/cli/lib/faults-client';
