export { clearDatabase, restoreDatabase, StateError, saveDatabase } from './database-state';
export {
  databaseId,
  parseSnapshotName,
  SNAPSHOT_NAME,
  type StateModuleOptions,
  type StateParticipant,
  StateModule,
  StateService,
  snapshotFile,
} from './state.module';
