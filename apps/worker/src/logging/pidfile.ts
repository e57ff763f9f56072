import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class PidFileError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * dcp-worker's `--pidFile`: writes our pid (and a newline) to `file`, refusing to start while the
 * process named in an existing file still runs; a stale file (its process gone) is replaced. Returns
 * the function that removes the file (called on exit).
 */
export function writePidFile(file: string, pid = process.pid): () => void {
  if (existsSync(file)) {
    const old = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (old > 0 && old !== pid && alive(old))
      throw new PidFileError(`process ${old} (from ${file}) is still running; not starting a second one`);
    unlinkSync(file);
  }
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    try {
      if (Number.parseInt(readFileSync(file, 'utf8'), 10) === pid) unlinkSync(file);
    } catch {
      // already gone
    }
  };
}
