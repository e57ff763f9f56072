import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Modes of what dcp-emu keeps in its data dir (databases, keystores, tokens, logs, snapshots). */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * From now on this process (and every child it starts) creates files 0600 and directories 0700:
 * SQLite databases and their -wal/-shm files, keystores, logs, snapshots. Returns the old umask.
 */
export function usePrivateUmask(): number {
  return process.umask(0o077);
}

/** Whether a failure only means the file went away meanwhile (e.g. SQLite's -shm on close). */
function vanished(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * `path` and, for a directory, everything in it made the owner's alone (files 0600, directories
 * 0700; symbolic links are left as they are, not followed). A missing path is fine.
 */
export function makePrivate(path: string): void {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (e) {
    if (vanished(e)) return;
    throw e;
  }
  if (stat.isSymbolicLink()) return;
  const mode = stat.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
  try {
    if ((stat.mode & 0o777) !== mode) chmodSync(path, mode);
  } catch (e) {
    if (vanished(e)) return;
    throw e;
  }
  if (!stat.isDirectory()) return;
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (e) {
    if (vanished(e)) return;
    throw e;
  }
  for (const entry of entries) makePrivate(join(path, entry));
}

/** The data directory, created 0700 if missing, with what is already in it made private. */
export function preparePrivateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  makePrivate(dir);
}
