import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/** Size-based rotation of a service log (`--log-max-size`, `--log-keep`). */
export interface LogRotation {
  /** rotate once the file reaches this many bytes (0: never) */
  maxBytes: number;
  /** rotated files kept: name.log.1 (newest) … name.log.<keep> */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 50 * 1024 * 1024, keep: 5 };

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "10M", "512k", "1048576", "1G" → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number));
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * An append-only log file that rotates by size: when a write would take `file` past `maxBytes`,
 * name.log.<keep-1> → name.log.<keep> … name.log → name.log.1 and a new name.log is opened. A
 * single write larger than the limit still goes whole into one file (lines are not split).
 */
export class RotatingLog extends Writable {
  #fd: number;
  #size: number;

  constructor(
    readonly file: string,
    readonly rotation: LogRotation = DEFAULT_LOG_ROTATION,
  ) {
    super({ decodeStrings: true });
    this.#fd = openSync(file, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    try {
      const { maxBytes } = this.rotation;
      if (maxBytes > 0 && this.#size > 0 && this.#size + chunk.length > maxBytes) this.rotate();
      let off = 0;
      while (off < chunk.length) off += writeSync(this.#fd, chunk, off);
      this.#size += chunk.length;
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  /** Shifts the rotated files and starts a new, empty log file. */
  rotate(): void {
    closeSync(this.#fd);
    const { keep } = this.rotation;
    if (keep <= 0) rmSync(this.file, { force: true });
    else {
      rmSync(`${this.file}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--)
        if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      renameSync(this.file, `${this.file}.1`);
    }
    this.#fd = openSync(this.file, 'a', 0o600);
    this.#size = 0;
  }

  override _final(done: (e?: Error | null) => void): void {
    this._destroy(null, done);
  }

  override _destroy(e: Error | null, done: (e?: Error | null) => void): void {
    try {
      if (this.#fd >= 0) closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = -1;
    done(e);
  }
}
