import type { PrismaClient as SqliteClient } from './generated/sqlite/client';
import { openDriver, searchPathOptions } from './driver';
import { type MigrateResult, migrate, readMigrations } from './migrator';
import { type DatabaseLocation, parseDatabaseUrl, type Provider } from './url';

/**
 * The Prisma client type every repository uses. The SQLite and PostgreSQL clients are generated from
 * the same models and expose the same API; the PostgreSQL one is typed through the SQLite one.
 */
export type PrismaDb = SqliteClient;

export interface Database {
  provider: Provider;
  /** where it is (file, or server and schema) */
  location: DatabaseLocation;
  prisma: PrismaDb;
  /** What the migrator did when this database was opened. */
  migrations: MigrateResult;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** file:… (SQLite) or postgresql://… */
  url: string;
  /** Base for relative SQLite paths. */
  dataDir: string;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  /** Where the committed migrations are (default: the repository's prisma/migrations). Bundlers that
   * move this package's code (Next.js) pass it explicitly. */
  migrationsRoot?: string;
}

/**
 * Opens the stack's database: applies pending migrations with our migrator (refusing on a changed or
 * unknown migration), then returns a Prisma client over the matching driver adapter.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const parsed = parseDatabaseUrl(opts.url, opts.dataDir);
  const driver = await openDriver(parsed);
  // PostgreSQL: the schema the driver settled on (a database from before the split stays in public)
  const location: DatabaseLocation =
    parsed.provider === 'postgresql' && driver.schema !== parsed.schema
      ? { provider: parsed.provider, target: parsed.target }
      : parsed;
  let migrations: MigrateResult = { applied: [], alreadyApplied: [] };
  try {
    if (opts.migrate !== false)
      migrations = await migrate(driver, readMigrations(location.provider, opts.migrationsRoot));
  } finally {
    await driver.close();
  }
  let prisma: PrismaDb;
  if (location.provider === 'sqlite') {
    const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
      import('./generated/sqlite/client.js'),
      import('@prisma/adapter-better-sqlite3'),
    ]);
    prisma = new PrismaClient({
      adapter: new PrismaBetterSqlite3({ url: location.target, timeout: 10_000 }),
    });
  } else {
    const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
      import('./generated/postgresql/client.js'),
      import('@prisma/adapter-pg'),
    ]);
    // the schema twice: Prisma qualifies its own queries with it; search_path serves raw SQL
    const schema = location.schema;
    prisma = new PrismaClient({
      adapter: new PrismaPg(
        { connectionString: location.target, ...(schema ? { options: searchPathOptions(schema) } : {}) },
        schema ? { schema } : undefined,
      ),
    }) as unknown as PrismaDb;
  }
  await prisma.$connect();
  return {
    provider: location.provider,
    location,
    prisma,
    migrations,
    close: () => prisma.$disconnect(),
  };
}
