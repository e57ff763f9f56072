import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The schemas the services create on a shared PostgreSQL database (`DCP_EMU_DATABASE_URL`). */
export const SERVICE_SCHEMAS = ['scheduler', 'bank', 'portal'] as const;

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Side effects of a PostgreSQL backup: running the client tools, finding their binaries. */
export interface PgToolsPort {
  run(file: string, args: string[], env: Record<string, string>): Promise<ToolResult>;
  /** candidate paths of a client tool, the best first (versioned Debian dirs, then PATH) */
  candidates(tool: string): string[];
}

export const systemPgTools: PgToolsPort = {
  run: (file, args, env) =>
    new Promise((res) => {
      execFile(
        file,
        args,
        { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
        (e, stdout, stderr) => {
          const code = e ? (typeof e.code === 'number' ? e.code : 127) : 0;
          res({ code, stdout: String(stdout), stderr: String(stderr || (e && !stderr ? e.message : '')) });
        },
      );
    }),
  candidates: (tool) => {
    const base = '/usr/lib/postgresql';
    const versioned = existsSync(base)
      ? readdirSync(base)
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join(base, v, 'bin', tool))
          .filter((f) => existsSync(f))
      : [];
    return [...versioned, tool];
  },
};

/** Prisma's connection parameters that libpq (pg_dump, psql) does not know. */
const PRISMA_ONLY = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'socket_timeout',
  'pgbouncer',
  'statement_cache_size',
  'sslaccept',
];

/**
 * A `postgresql://` URL as the client tools take it: without Prisma's own parameters and without
 * the password, which goes into `PGPASSWORD` (an argument would show in `ps`).
 */
export function libpqTarget(databaseUrl: string): { url: string; env: Record<string, string> } {
  const u = new URL(databaseUrl);
  for (const p of PRISMA_ONLY) u.searchParams.delete(p);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.href, env: password ? { PGPASSWORD: password } : {} };
}

/** A URL fit to print: no password. */
export function redacted(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  if (u.password) u.password = '***';
  return u.href;
}

export class PgBackupError extends Error {}

/** Major version from `pg_dump (PostgreSQL) 15.18 (Debian …)` or `server_version_num` 150018. */
export function majorOf(text: string): number | undefined {
  const num = /^\s*(\d{5,6})\s*$/.exec(text);
  if (num) return Math.floor(Number(num[1]) / 10000);
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface PgBackupInfo {
  file: string;
  schemas: string[];
  serverVersion: number;
  dumpVersion: number;
}

/** The client tools for one server: psql and a pg_dump / pg_restore at least as new as the server. */
export class PgTools {
  constructor(
    private readonly databaseUrl: string,
    private readonly port: PgToolsPort = systemPgTools,
  ) {}

  private get target() {
    return libpqTarget(this.databaseUrl);
  }

  private async must(file: string, args: string[], what: string): Promise<string> {
    const t = this.target;
    const r = await this.port.run(file, args, t.env);
    if (r.code !== 0)
      throw new PgBackupError(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  private async psql(sql: string): Promise<string> {
    const psql = this.port.candidates('psql')[0] ?? 'psql';
    return this.must(
      psql,
      ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', this.target.url, '-c', sql],
      'psql',
    );
  }

  /** The server's major version (`SHOW server_version_num`). */
  async serverMajor(): Promise<number> {
    const out = await this.psql('SHOW server_version_num');
    const major = majorOf(out.trim());
    if (!major) throw new PgBackupError(`cannot read the server version from "${out.trim()}"`);
    return major;
  }

  /**
   * A pg_dump / pg_restore whose major version is the server's (else the newest that is newer):
   * an older pg_dump refuses a newer server, and a mismatch is named before anything runs.
   */
  async tool(name: 'pg_dump' | 'pg_restore', serverMajor: number): Promise<{ file: string; major: number }> {
    const found: { file: string; major: number }[] = [];
    for (const file of this.port.candidates(name)) {
      const r = await this.port.run(file, ['--version'], {});
      const major = r.code === 0 ? majorOf(r.stdout) : undefined;
      if (major) found.push({ file, major });
    }
    const exact = found.find((f) => f.major === serverMajor);
    const newer = found.filter((f) => f.major > serverMajor).sort((a, b) => a.major - b.major)[0];
    const pick = exact ?? newer;
    if (pick) return pick;
    throw new PgBackupError(
      found.length
        ? `${name} ${found.map((f) => f.major).join(', ')} is older than the PostgreSQL ${serverMajor} server: install the server's client tools (Debian: apt-get install postgresql-client-${serverMajor})`
        : `${name} not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client)`,
    );
  }

  /** The service schemas present in the database. */
  async schemas(): Promise<string[]> {
    const list = SERVICE_SCHEMAS.map((s) => `'${s}'`).join(',');
    const out = await this.psql(
      `SELECT nspname FROM pg_namespace WHERE nspname IN (${list}) ORDER BY nspname`,
    );
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  /** `pg_dump --format=custom` of the service schemas into `file` (a consistent snapshot, online). */
  async dump(file: string): Promise<Omit<PgBackupInfo, 'file'>> {
    const serverVersion = await this.serverMajor();
    const dump = await this.tool('pg_dump', serverVersion);
    const schemas = await this.schemas();
    if (!schemas.length)
      throw new PgBackupError(
        `no service schema (${SERVICE_SCHEMAS.join(', ')}) in ${redacted(this.databaseUrl)}: has the stack run on it?`,
      );
    await this.must(
      dump.file,
      [
        '--format=custom',
        '--no-owner',
        '--no-privileges',
        ...schemas.flatMap((s) => ['--schema', s]),
        '--file',
        file,
        '--dbname',
        this.target.url,
      ],
      'pg_dump',
    );
    return { schemas, serverVersion, dumpVersion: dump.major };
  }

  /**
   * Replaces the service schemas of the database with the dump's: drops each (and only those), then
   * `pg_restore` in one transaction.
   */
  async restore(info: PgBackupInfo, file: string): Promise<void> {
    const serverVersion = await this.serverMajor();
    const restore = await this.tool('pg_restore', Math.max(serverVersion, info.dumpVersion));
    // only the backup's schemas: a schema it does not hold (a portal started later) is left alone
    const drops = info.schemas
      .filter((s) => (SERVICE_SCHEMAS as readonly string[]).includes(s))
      .map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE;`)
      .join(' ');
    await this.psql(`BEGIN; ${drops} COMMIT;`);
    await this.must(
      restore.file,
      [
        '--no-owner',
        '--no-privileges',
        '--single-transaction',
        '--exit-on-error',
        '--dbname',
        this.target.url,
        file,
      ],
      'pg_restore',
    );
  }
}
