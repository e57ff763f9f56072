import { describe, expect, it } from 'vitest';
import { libpqTarget, majorOf, PgBackupError, PgTools, type PgToolsPort, redacted } from './pg-backup';

/** A recording port: answers `--version` per binary and psql queries from a table. */
function fakeTools(versions: Record<string, string>, psql: Record<string, string> = {}) {
  const calls: { file: string; args: string[]; env: Record<string, string> }[] = [];
  const port: PgToolsPort = {
    candidates: (tool) => Object.keys(versions).filter((f) => f.endsWith(`/${tool}`) || f === tool),
    run: async (file, args, env) => {
      calls.push({ file, args, env });
      if (args[0] === '--version') return { code: 0, stdout: versions[file] ?? '', stderr: '' };
      if (file.endsWith('psql')) {
        const sql = args[args.indexOf('-c') + 1] ?? '';
        const hit = Object.entries(psql).find(([k]) => sql.includes(k));
        return { code: 0, stdout: hit?.[1] ?? '', stderr: '' };
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { port, calls };
}

describe('pg-backup', () => {
  it('reads majors from --version and server_version_num', () => {
    expect(majorOf('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(majorOf('160004')).toBe(16);
    expect(majorOf('90624')).toBe(9);
    expect(majorOf('nonsense')).toBeUndefined();
  });

  it('gives the tools a libpq URL without Prisma parameters and the password in PGPASSWORD', () => {
    const t = libpqTarget(
      'postgresql://dcp:p%40ss@db:5432/dcp?schema=bank&connection_limit=5&sslmode=require',
    );
    expect(t.url).toBe('postgresql://dcp@db:5432/dcp?sslmode=require');
    expect(t.env).toEqual({ PGPASSWORD: 'p@ss' });
    expect(redacted('postgresql://dcp:secret@db/dcp')).toBe('postgresql://dcp:***@db/dcp');
  });

  it("dumps the service schemas with the pg_dump of the server's major version", async () => {
    const { port, calls } = fakeTools(
      {
        '/v/17/bin/pg_dump': 'pg_dump (PostgreSQL) 17.2',
        '/v/15/bin/pg_dump': 'pg_dump (PostgreSQL) 15.18',
        psql: 'psql (PostgreSQL) 15.18',
      },
      { server_version_num: '150018\n', pg_namespace: 'bank\nscheduler\n' },
    );
    const info = await new PgTools('postgresql://dcp:pw@db:5432/dcp', port).dump('/b/postgres.dump');
    expect(info).toEqual({ schemas: ['bank', 'scheduler'], serverVersion: 15, dumpVersion: 15 });
    const dump = calls.find((c) => c.args.includes('--format=custom'));
    expect(dump?.file).toBe('/v/15/bin/pg_dump');
    expect(dump?.args).toEqual([
      '--format=custom',
      '--no-owner',
      '--no-privileges',
      '--schema',
      'bank',
      '--schema',
      'scheduler',
      '--file',
      '/b/postgres.dump',
      '--dbname',
      'postgresql://dcp@db:5432/dcp',
    ]);
    expect(dump?.env).toEqual({ PGPASSWORD: 'pw' });
    expect(calls.some((c) => c.args.join(' ').includes('pw'))).toBe(false);
  });

  it('refuses a pg_dump older than the server, naming both versions', async () => {
    const { port } = fakeTools(
      { '/v/15/bin/pg_dump': 'pg_dump (PostgreSQL) 15.18', psql: 'psql' },
      { server_version_num: '160004' },
    );
    const p = new PgTools('postgresql://dcp@db/dcp', port).dump('/b/x');
    await expect(p).rejects.toBeInstanceOf(PgBackupError);
    await expect(p).rejects.toThrow(/pg_dump 15 is older than the PostgreSQL 16 server/);
  });

  it("restore drops only the backup's schemas, then pg_restore in one transaction", async () => {
    const { port, calls } = fakeTools(
      { '/v/16/bin/pg_restore': 'pg_restore (PostgreSQL) 16.4', psql: 'psql' },
      { server_version_num: '160004' },
    );
    await new PgTools('postgresql://dcp@db/dcp', port).restore(
      { file: 'postgres.dump', schemas: ['bank', 'scheduler'], serverVersion: 16, dumpVersion: 16 },
      '/b/postgres.dump',
    );
    const drop = calls.find((c) => c.args.join(' ').includes('DROP SCHEMA'));
    expect(drop?.args.at(-1)).toBe(
      'BEGIN; DROP SCHEMA IF EXISTS "bank" CASCADE; DROP SCHEMA IF EXISTS "scheduler" CASCADE; COMMIT;',
    );
    const restore = calls.at(-1);
    expect(restore?.file).toBe('/v/16/bin/pg_restore');
    expect(restore?.args).toContain('--single-transaction');
    expect(restore?.args.at(-1)).toBe('/b/postgres.dump');
  });
});
