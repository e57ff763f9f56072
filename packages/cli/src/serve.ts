import type { ServeArgs } from './serve-profile';
import { ServeError, serveProfile } from './serve-profile';
import type { UpArgs } from './args';
import { up } from './up';

/**
 * `dcp-emu serve`: `up`'s stack in its production profile — faucet off, no dev accounts, a stable
 * admin token, every served location at the public URLs; warns when the state is on SQLite.
 */
export async function serve(a: { up: UpArgs; serve: ServeArgs }): Promise<number> {
  let profile: ReturnType<typeof serveProfile>;
  try {
    profile = serveProfile(a.serve, {
      host: a.up.host,
      dataDir: a.up.dataDir,
      ports: a.up.ports,
      portal: a.up.services.includes('portal'),
    });
  } catch (e) {
    if (!(e instanceof ServeError)) throw e;
    process.stderr.write(`dcp-emu serve: ${e.message}\n`);
    return 2;
  }
  if (!a.up.databaseUrl?.startsWith('postgres'))
    process.stderr.write(
      'dcp-emu serve: warning: the state is in SQLite files in the data dir; PostgreSQL (--database-url postgresql://…) is recommended for a shared stack (concurrent writers, pg_dump backups)\n',
    );
  return up({ ...a.up, readyTimeoutMs: 120_000, serve: profile });
}
