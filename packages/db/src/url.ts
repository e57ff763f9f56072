import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export interface DatabaseLocation {
  provider: Provider;
  /** For sqlite: absolute file path. For postgresql: the connection string (without `schema`). */
  target: string;
  /** PostgreSQL only: the schema the service's tables live in (`?schema=` of the URL); default public. */
  schema?: string;
}

/** The services that own a database (prisma/models/<service>.prisma). */
export const DATABASE_SERVICES = ['scheduler', 'bank', 'portal'] as const;
export type DatabaseService = (typeof DATABASE_SERVICES)[number];

/** The single file every service shared before each got its own; still used when present. */
export const LEGACY_DATABASE_FILE = 'dcp-emu.sqlite';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `file:/abs/path.sqlite`, `file:relative.sqlite` (against dataDir) or `postgresql://…` / `postgres://…`
 * (optionally `?schema=<name>`). Anything else is rejected with a message naming the accepted forms.
 */
export function parseDatabaseUrl(url: string, dataDir: string): DatabaseLocation {
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) {
    const u = new URL(url);
    const schema = u.searchParams.get('schema');
    if (schema === null) return { provider: 'postgresql', target: url };
    if (!SCHEMA_NAME.test(schema))
      throw new Error(`database URL schema "${schema}" must be a lowercase SQL identifier`);
    u.searchParams.delete('schema');
    return { provider: 'postgresql', target: u.toString(), schema };
  }
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new Error(`database URL ${url} names no file`);
    return { provider: 'sqlite', target: isAbsolute(path) ? path : resolve(dataDir, path) };
  }
  throw new Error(
    `unsupported database URL "${url}": use file:<path> (SQLite) or postgresql://user:pass@host:port/db`,
  );
}

/** `file:<dataDir>/<service>.sqlite`: each service's own SQLite file. */
export function defaultDatabaseUrl(dataDir: string, service: DatabaseService): string {
  return `file:${join(dataDir, `${service}.sqlite`)}`;
}

/** The database settings of the environment (each service's zod env shape includes these). */
export interface DatabaseEnv {
  DCP_EMU_SCHEDULER_DATABASE_URL?: string | undefined;
  DCP_EMU_BANK_DATABASE_URL?: string | undefined;
  DCP_EMU_PORTAL_DATABASE_URL?: string | undefined;
  DCP_EMU_DATABASE_URL?: string | undefined;
  DATABASE_URL?: string | undefined;
}

export const SERVICE_DATABASE_ENV = {
  scheduler: 'DCP_EMU_SCHEDULER_DATABASE_URL',
  bank: 'DCP_EMU_BANK_DATABASE_URL',
  portal: 'DCP_EMU_PORTAL_DATABASE_URL',
} as const satisfies Record<DatabaseService, keyof DatabaseEnv>;

/**
 * The database URL of one service:
 * 1. its own `DCP_EMU_<SERVICE>_DATABASE_URL`;
 * 2. else the shared `DCP_EMU_DATABASE_URL` (or `DATABASE_URL`): a PostgreSQL URL gives each service its
 *    own schema on that database (`?schema=<service>`), a `file:` URL is one SQLite file for all;
 * 3. else `<dataDir>/dcp-emu.sqlite` when that file exists (a data dir from before the split keeps
 *    its data), otherwise `<dataDir>/<service>.sqlite`.
 */
export function serviceDatabaseUrl(service: DatabaseService, env: DatabaseEnv, dataDir: string): string {
  const own = env[SERVICE_DATABASE_ENV[service]];
  if (own) return own;
  const shared = env.DCP_EMU_DATABASE_URL || env.DATABASE_URL;
  if (shared) {
    const location = parseDatabaseUrl(shared, dataDir);
    if (location.provider === 'sqlite') return shared;
    const u = new URL(shared);
    u.searchParams.set('schema', location.schema ? `${location.schema}_${service}` : service);
    return u.toString();
  }
  const legacy = join(dataDir, LEGACY_DATABASE_FILE);
  if (existsSync(legacy)) return `file:${legacy}`;
  return defaultDatabaseUrl(dataDir, service);
}
