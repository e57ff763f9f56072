export { freePort, startPostgres, type PgServer } from './postgres.js';
export { freshDatabase, PROVIDERS, type TestDatabase, type TestProvider } from './databases.js';
