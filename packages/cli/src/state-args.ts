/** `reset`, `backup`, `restore` and `snapshot`: the stack's saved state. */
import { type DataDirOf, parse, UsageError } from './args-common';

export const RESET_HELP = `usage: dcp-emu reset [--yes] [--data-dir DIR]

Back to the seeded state: no jobs, dev accounts at their start balances. On PostgreSQL it says which
databases it empties and asks first (on a terminal); --yes (-y) skips the question.

example:  dcp-emu reset
`;

export const BACKUP_HELP = `usage: dcp-emu backup DIR [--data-dir DIR] [--database-url postgresql://…]

Copy the stack's state into DIR (online): each service's SQLite database — or, on PostgreSQL, a
pg_dump of the service schemas (--database-url or DCP_EMU_DATABASE_URL, else the running stack's) —
the scheduler's, bank's and worker's keystores and the admin token, with a manifest.

example:  dcp-emu backup /var/backups/dcp-emu/2026-12-07
`;

export const RESTORE_HELP = `usage: dcp-emu restore DIR [--data-dir DIR] [--database-url postgresql://…]

Bring a backup back (the stack must be stopped); the next up starts from it, same scheduler identity.
A PostgreSQL backup needs --database-url (or DCP_EMU_DATABASE_URL): its service schemas are replaced.

example:  dcp-emu restore /var/backups/dcp-emu/2026-12-07
`;

export const SNAPSHOT_HELP = `usage: dcp-emu snapshot save NAME | snapshot restore NAME | snapshot list [--data-dir DIR]

Save the whole state of the running stack (<data dir>/snapshots/NAME/) and bring it back.

example:  dcp-emu snapshot save before-test && dcp-emu snapshot restore before-test
`;

export type ResetCommand = { kind: 'reset'; dataDir: string; yes: boolean };
export type BackupCommand = {
  kind: 'backup' | 'restore';
  dataDir: string;
  path: string;
  databaseUrl?: string;
};
export type SnapshotCommand =
  | { kind: 'snapshot'; dataDir: string; action: 'save' | 'restore'; name: string }
  | { kind: 'snapshot'; dataDir: string; action: 'list' };

const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `dcp-emu reset …` arguments. */
export function parseReset(rest: string[], dataDirOf: DataDirOf): ResetCommand {
  const { values } = parse(rest, {
    'data-dir': { type: 'string' },
    yes: { type: 'boolean', short: 'y', default: false },
  });
  return { kind: 'reset', dataDir: dataDirOf(values['data-dir']), yes: values.yes as boolean };
}

/** `dcp-emu backup|restore DIR …` arguments. */
export function parseBackup(
  command: 'backup' | 'restore',
  rest: string[],
  env: NodeJS.ProcessEnv,
  dataDirOf: DataDirOf,
): BackupCommand {
  const { values, positionals } = parse(
    rest,
    { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } },
    true,
  );
  const [path, extra] = positionals;
  if (!path || extra !== undefined)
    throw new UsageError(`usage: dcp-emu ${command} DIR [--data-dir DIR] [--database-url URL]`);
  const databaseUrl = (values['database-url'] as string | undefined) ?? env.DCP_EMU_DATABASE_URL;
  return {
    kind: command,
    dataDir: dataDirOf(values['data-dir']),
    path,
    ...(databaseUrl ? { databaseUrl } : {}),
  };
}

/** `dcp-emu snapshot …` arguments. */
export function parseSnapshot(rest: string[], dataDirOf: DataDirOf): SnapshotCommand {
  const { values, positionals } = parse(rest, { 'data-dir': { type: 'string' } }, true);
  const [action, name, extra] = positionals;
  const dataDir = dataDirOf(values['data-dir']);
  if (action === 'list' && name === undefined) return { kind: 'snapshot', dataDir, action };
  if ((action === 'save' || action === 'restore') && name !== undefined && extra === undefined) {
    if (!SNAPSHOT_NAME.test(name))
      throw new UsageError(`snapshot names are letters, digits, ".", "_" and "-" (got "${name}")`);
    return { kind: 'snapshot', dataDir, action, name };
  }
  throw new UsageError('usage: dcp-emu snapshot save NAME | snapshot restore NAME | snapshot list');
}
