/**
 * "Busy means slower, never failed": the database errors that only say "not now" — SQLite busy or
 * locked, a Prisma transaction that timed out or could not start in time, a pool with no free
 * connection, PostgreSQL serialization failures and deadlocks — are retried with growing, jittered
 * back-off instead of being surfaced. Only wrap work that is safe to run again as a whole (one
 * database transaction, or an idempotent statement): a failed attempt must have changed nothing.
 */

/** Prisma error codes that mean "try again": write conflict/deadlock, timeouts, pool exhausted. */
const TRANSIENT_CODES = new Set([
  'P1008', // operations timed out
  'P2024', // timed out fetching a connection from the pool
  'P2028', // transaction API error: could not start in time, or closed by its timeout
  'P2034', // write conflict or deadlock
  '40001', // PostgreSQL serialization_failure
  '40P01', // PostgreSQL deadlock_detected
  '55P03', // PostgreSQL lock_not_available
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_LOCKED',
  'SQLITE_LOCKED_SHAREDCACHE',
  // a lost or refused connection (server restarting, too many clients): its transaction rolled back
  '53300', // PostgreSQL too_many_connections
  '57P01', // PostgreSQL admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

const TRANSIENT_TEXT =
  /SQLITE_BUSY|SQLITE_LOCKED|database is locked|database table is locked|deadlock detected|could not serialize access|\b40001\b|\b40P01\b|Operation has timed out|Operations timed out|Transaction already closed|Unable to start a transaction in the given time|Timed out fetching a new connection|write conflict or a deadlock|Connection terminated/i;

function codeOf(e: object): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for errors that only mean the database was busy: the same work may simply run again. */
export function isTransientDbError(e: unknown): boolean {
  const seen = new Set<unknown>();
  // Prisma wraps driver errors (`cause`, `meta.driverAdapterError`): look through the chain.
  for (let cur: unknown = e; cur && typeof cur === 'object' && !seen.has(cur); ) {
    seen.add(cur);
    const code = codeOf(cur);
    if (code && TRANSIENT_CODES.has(code)) return true;
    const message = (cur as { message?: unknown }).message;
    if (typeof message === 'string' && TRANSIENT_TEXT.test(message)) return true;
    const meta = (cur as { meta?: { driverAdapterError?: unknown } }).meta;
    cur = (cur as { cause?: unknown }).cause ?? meta?.driverAdapterError;
  }
  return false;
}

export interface RetryOptions {
  /** total attempts, the first included (default: unlimited within `maxElapsedMs`) */
  readonly attempts?: number;
  /** give up (rethrow) once this much time has passed since the first attempt (default 10 min) */
  readonly maxElapsedMs?: number;
  /** first back-off in ms (default 5); doubles per attempt up to `maxDelayMs` */
  readonly baseDelayMs?: number;
  /** longest back-off in ms (default 1000) */
  readonly maxDelayMs?: number;
  /** which errors to retry (default `isTransientDbError`) */
  readonly retryIf?: (e: unknown) => boolean;
  /** told before each back-off (e.g. a debug log); never an error-level event */
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
  /** the sleep, replaceable in tests */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` until it succeeds or fails with an error that is not transient; transient failures are
 * retried after a jittered exponential back-off (`baseDelayMs` · 2^n, at most `maxDelayMs`). Gives up
 * only after `attempts` or `maxElapsedMs`.
 */
export async function withDbRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY;
  const maxElapsed = options.maxElapsedMs ?? 600_000;
  const base = options.baseDelayMs ?? 5;
  const cap = options.maxDelayMs ?? 1000;
  const retryIf = options.retryIf ?? isTransientDbError;
  const sleep = options.sleep ?? defaultSleep;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= attempts || Date.now() - started >= maxElapsed || !retryIf(e)) throw e;
      const ceiling = Math.min(cap, base * 2 ** Math.min(attempt - 1, 20));
      const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      options.onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}
