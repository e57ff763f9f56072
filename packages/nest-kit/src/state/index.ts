export {
  clearDatabase,
  databaseId,
  parseSnapshotName,
  restoreDatabase,
  SNAPSHOT_NAME,
  StateError,
  type StateParticipant,
  saveDatabase,
  snapshotFile,
} from '@dcp-emu/db';
export { type StateModuleOptions, StateModule, StateService } from './state.module';
