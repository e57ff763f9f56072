import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { AckJournal } from './ack-journal';

/**
 * An AckJournal in an append-only file: one `dcpsid token` line per ack (`dcpsid -` forgets), written
 * with one synchronous write each, so it survives a kill -9 of the process. Compacted on open and
 * whenever the log grows past `compactBytes`.
 */
export function fileAckJournal(
  path: string,
  options: { compactBytes?: number } = {},
): AckJournal & {
  close(): void;
} {
  const compactBytes = options.compactBytes ?? 4 * 1024 * 1024;
  const map = new Map<string, string>();
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [dcpsid, token] = line.split(' ');
      if (!dcpsid || !token) continue;
      if (token === '-') map.delete(dcpsid);
      else map.set(dcpsid, token);
    }
  }
  let fd = -1;
  let written = 0;
  const compact = () => {
    if (fd >= 0) closeSync(fd);
    const text = [...map].map(([d, t]) => `${d} ${t}\n`).join('');
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    fd = openSync(path, 'a');
    written = Buffer.byteLength(text);
  };
  compact();
  const append = (line: string) => {
    written += writeSync(fd, line);
    if (written > compactBytes) compact();
  };
  return {
    record(dcpsid, token) {
      // both come from the peer (its sid, its ackToken): never let them break the line format
      if (/\s/.test(dcpsid)) return;
      if (/\s/.test(token) || !token) {
        this.forget(dcpsid);
        return;
      }
      map.set(dcpsid, token);
      append(`${dcpsid} ${token}\n`);
    },
    last: (dcpsid) => map.get(dcpsid),
    forget(dcpsid) {
      if (map.delete(dcpsid)) append(`${dcpsid} -\n`);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
