import { isAbsolute, join, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export interface DatabaseLocation {
  provider: Provider;
  /** For sqlite: absolute file path. For postgresql: the connection string. */
  target: string;
}

/**
 * `file:/abs/path.sqlite`, `file:relative.sqlite` (against dataDir) or `postgresql://…` / `postgres://…`.
 * Anything else is rejected with a message naming the accepted forms.
 */
export function parseDatabaseUrl(url: string, dataDir: string): DatabaseLocation {
  if (url.startsWith('postgresql://') || url.startsWith('postgres://'))
    return { provider: 'postgresql', target: url };
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new Error(`database URL ${url} names no file`);
    return { provider: 'sqlite', target: isAbsolute(path) ? path : resolve(dataDir, path) };
  }
  throw new Error(
    `unsupported database URL "${url}": use file:<path> (SQLite) or postgresql://user:pass@host:port/db`,
  );
}

export function defaultDatabaseUrl(dataDir: string): string {
  return `file:${join(dataDir, 'dcp-emu.sqlite')}`;
}
