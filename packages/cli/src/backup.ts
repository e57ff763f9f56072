import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { PgBackupError, type PgToolsPort, PgTools, redacted, systemPgTools } from './pg-backup';
import { processAlive, readStackInfo } from './stack-file';

/**
 * What `dcp-emu backup` copies besides the databases: the identities clients and workers pin (the
 * scheduler's and the bank's keystores), the local worker's identity, the admin token and the
 * stack's own client keystores. Paths relative to the data dir.
 */
export const KEY_FILES = [
  'keys/scheduler.keystore',
  'bank.keystore',
  'worker.keystore',
  'worker-id',
  'admin.token',
  'dev-accounts.json',
  'resources/id.keystore',
  'resources/default.keystore',
];

const manifestSchema = z.object({
  format: z.literal('dcp-emu-backup/1'),
  createdAt: z.string(),
  databases: z.array(z.string()),
  files: z.array(z.string()),
  /** a PostgreSQL stack: `pg_dump --format=custom` of the service schemas */
  postgres: z
    .object({
      file: z.string(),
      schemas: z.array(z.string()).min(1),
      serverVersion: z.number().int(),
      dumpVersion: z.number().int(),
    })
    .optional(),
});
type Manifest = z.infer<typeof manifestSchema>;

const PG_DUMP_FILE = 'postgres.dump';

const err = (text: string) => process.stderr.write(`dcp-emu: ${text}\n`);

/** SQLite databases of the data dir (one file per service by default). */
function sqliteFiles(dataDir: string): string[] {
  return readdirSync(dataDir).filter((f) => f.endsWith('.sqlite'));
}

/**
 * `dcp-emu backup DIR`: a consistent copy of each service's SQLite database (better-sqlite3's online
 * backup: the stack may keep running) plus the keystores, into a new directory with a manifest.
 */
export async function backupCommand(
  dataDir: string,
  target: string,
  databaseUrl?: string,
  pgTools: PgToolsPort = systemPgTools,
): Promise<number> {
  const url = databaseUrl ?? readStackInfo(dataDir)?.databaseUrl;
  const postgres = url?.startsWith('postgres') ? url : undefined;
  const out = resolve(target);
  if (existsSync(out) && readdirSync(out).length) {
    err(`${out} exists and is not empty; give a new directory`);
    return 1;
  }
  const databases = postgres ? [] : sqliteFiles(dataDir);
  if (!postgres && !databases.length) {
    err(`no SQLite database in ${dataDir} (a PostgreSQL stack: give --database-url)`);
    return 1;
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  let pgInfo: Manifest['postgres'];
  if (postgres) {
    try {
      const dumped = await new PgTools(postgres, pgTools).dump(join(out, PG_DUMP_FILE));
      pgInfo = { file: PG_DUMP_FILE, ...dumped };
    } catch (e) {
      if (!(e instanceof PgBackupError)) throw e;
      err(`backup of ${redacted(postgres)}: ${e.message}`);
      rmSync(out, { recursive: true, force: true });
      return 1;
    }
  }
  for (const f of databases) {
    const db = new Database(join(dataDir, f), { readonly: true, fileMustExist: true });
    try {
      await db.backup(join(out, f));
    } finally {
      db.close();
    }
  }
  const files = KEY_FILES.filter((f) => existsSync(join(dataDir, f)));
  for (const f of files) {
    mkdirSync(join(out, f, '..'), { recursive: true, mode: 0o700 });
    copyFileSync(join(dataDir, f), join(out, f));
  }
  const manifest: Manifest = {
    format: 'dcp-emu-backup/1',
    createdAt: new Date().toISOString(),
    databases,
    files,
    ...(pgInfo ? { postgres: pgInfo } : {}),
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  const what = pgInfo
    ? `PostgreSQL schemas ${pgInfo.schemas.join(', ')} (pg_dump ${pgInfo.dumpVersion}, server ${pgInfo.serverVersion})`
    : databases.join(', ');
  process.stdout.write(`backed up ${what} and ${files.length} key files to ${out}\n`);
  return 0;
}

/**
 * `dcp-emu restore DIR`: puts a backup's databases and keystores back into the data dir. The stack
 * must be stopped (its services hold the databases open); start it again afterwards.
 */
export async function restoreCommand(
  dataDir: string,
  source: string,
  databaseUrl?: string,
  pgTools: PgToolsPort = systemPgTools,
): Promise<number> {
  const info = readStackInfo(dataDir);
  if (info && processAlive(info.pid)) {
    err(`a stack is running for ${dataDir} (pid ${info.pid}): stop it first, then restore`);
    return 1;
  }
  const from = resolve(source);
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8')));
  } catch (e) {
    err(`${from} is not a dcp-emu backup (${(e as Error).message.split('\n')[0]})`);
    return 1;
  }
  const postgres = databaseUrl?.startsWith('postgres') ? databaseUrl : undefined;
  if (manifest.postgres && !postgres) {
    err(
      'this backup is of a PostgreSQL stack: give the database to restore into (--database-url postgresql://… or DCP_EMU_DATABASE_URL)',
    );
    return 1;
  }
  if (!manifest.postgres && postgres) {
    err(`this backup holds SQLite databases (${manifest.databases.join(', ')}), not a PostgreSQL dump`);
    return 1;
  }
  if (manifest.postgres && postgres) {
    try {
      await new PgTools(postgres, pgTools).restore(manifest.postgres, join(from, manifest.postgres.file));
    } catch (e) {
      if (!(e instanceof PgBackupError)) throw e;
      err(`restore into ${redacted(postgres)}: ${e.message}`);
      return 1;
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (const f of manifest.databases) {
    // the old database's write-ahead log must not be replayed over the restored file
    for (const ext of ['', '-wal', '-shm', '-journal']) rmSync(join(dataDir, `${f}${ext}`), { force: true });
    copyFileSync(join(from, f), join(dataDir, f));
  }
  for (const f of manifest.files) {
    mkdirSync(join(dataDir, f, '..'), { recursive: true, mode: 0o700 });
    cpSync(join(from, f), join(dataDir, f));
  }
  // the seed snapshot belonged to the replaced databases
  rmSync(join(dataDir, 'snapshots', '@seed'), { recursive: true, force: true });
  const what = manifest.postgres
    ? `PostgreSQL schemas ${manifest.postgres.schemas.join(', ')}`
    : manifest.databases.join(', ');
  process.stdout.write(
    `restored ${what} and ${manifest.files.length} key files (backup of ${manifest.createdAt}) into ${dataDir}\n`,
  );
  return 0;
}
