export { type Database, openDatabase, type OpenDatabaseOptions, type PrismaDb } from './database';
export { openDriver, quoteIdent, searchPathOptions, type SqlDriver } from './driver';
export {
  checksum,
  MIGRATIONS_ROOT,
  type Migration,
  MigrationError,
  migrate,
  readMigrations,
} from './migrator';
export {
  DATABASE_SERVICES,
  type DatabaseEnv,
  type DatabaseLocation,
  type DatabaseService,
  defaultDatabaseUrl,
  LEGACY_DATABASE_FILE,
  parseDatabaseUrl,
  type Provider,
  SERVICE_DATABASE_ENV,
  serviceDatabaseUrl,
} from './url';
export {
  clearDatabase,
  DatabaseState,
  type DatabaseStateOptions,
  databaseId,
  parseSnapshotName,
  restoreDatabase,
  SNAPSHOT_NAME,
  StateError,
  type StateInfo,
  type StateParticipant,
  saveDatabase,
  snapshotFile,
} from './state';
export { isTransientDbError, type RetryOptions, withDbRetry } from './retry';
