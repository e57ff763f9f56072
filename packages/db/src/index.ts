export { type Database, openDatabase, type OpenDatabaseOptions, type PrismaDb } from './database';
export { openDriver, type SqlDriver } from './driver';
export {
  checksum,
  MIGRATIONS_ROOT,
  type Migration,
  MigrationError,
  migrate,
  readMigrations,
} from './migrator';
export { type DatabaseLocation, defaultDatabaseUrl, parseDatabaseUrl, type Provider } from './url';
export { isTransientDbError, type RetryOptions, withDbRetry } from './retry';
