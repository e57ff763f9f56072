/** Side-effect ports: clock, randomness, logging and deferral, swappable in tests. */

export { type Clock, type ClockTimer, systemClock } from './clock';

export interface Random {
  /** A random string of `length` characters from [A-Za-z0-9]. */
  string(length: number): string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random bytes are drawn from the system in blocks: one call per 4 KiB, not one per id (hot path). */
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let used = 0;

function randomBytes(length: number): Uint8Array {
  if (length > POOL_SIZE) return globalThis.crypto.getRandomValues(new Uint8Array(length));
  if (used + length > pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(POOL_SIZE));
    used = 0;
  }
  const out = pool.subarray(used, used + length);
  used += length;
  return out;
}

export const cryptoRandom: Random = {
  string(length) {
    let out = '';
    for (const b of randomBytes(length)) out += ALPHABET[b % 62]!;
    return out;
  },
};

/** pino-compatible subset. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Logs warnings and errors to the console; the default when no logger is given. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn('[dcp-protocol]', msg ?? '', obj),
  error: (obj, msg) => console.error('[dcp-protocol]', msg ?? '', obj),
};

/** Run `fn` on a later macrotask (setImmediate in Node, setTimeout(0) elsewhere). */
export function defer(fn: () => void): void {
  const si = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  if (si) si(fn);
  else setTimeout(fn, 0);
}

/** A timer that does not keep a Node process alive. */
export function timer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const t = setTimeout(fn, ms);
  (t as { unref?: () => void }).unref?.();
  return t;
}
