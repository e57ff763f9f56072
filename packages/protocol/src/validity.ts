import { DcpError, DcpErrorCode } from './errors';
import { validitySchema } from './messages';

export interface ValidityOptions {
  /** ttl clamp, seconds (DCP: 15..600, default 120). */
  ttl: { min: number; max: number; default: number };
  /** tolerance around "now", seconds (DCP: 600). */
  slop: number;
}

export const defaultValidityOptions: ValidityOptions = {
  ttl: { min: 15, max: 600, default: 120 },
  slop: 600,
};

/** Remembers validity stamps until they expire, to refuse replays (EDUP). */
export class StampCache {
  readonly #expiry = new Map<string, number>();
  #lastPrune = 0;

  /** false when the stamp was already seen. */
  insert(stamp: string, expiresAt: number, now: number): boolean {
    if (now - this.#lastPrune > 10) {
      // at most every 10 s (seconds, like `now`): one pass over the remembered stamps
      this.#lastPrune = now;
      this.prune(now);
    }
    const seen = this.#expiry.get(stamp);
    if (seen !== undefined && seen >= now) return false;
    this.#expiry.set(stamp, expiresAt);
    return true;
  }

  /** Forget stamps whose message could no longer pass the expiry check anyway. */
  prune(now: number): void {
    for (const [stamp, exp] of this.#expiry) if (exp < now) this.#expiry.delete(stamp);
  }

  get size(): number {
    return this.#expiry.size;
  }
}

/**
 * Check a request's `validity` against `now` (seconds): EINVAL (missing), ETIMETRAVEL (too far in the
 * future), EEXPIRED (time+ttl before now-slop), EDUP (stamp already seen). Returns null when valid.
 */
export function validityError(
  validity: unknown,
  now: number,
  cache: StampCache,
  options: ValidityOptions = defaultValidityOptions,
): DcpError | null {
  const parsed = validitySchema.safeParse(validity);
  if (!parsed.success) return new DcpError(DcpErrorCode.EINVAL, 'invalid validity in request');
  const v = parsed.data;
  const ttl =
    typeof v.ttl !== 'number' || !v.ttl
      ? options.ttl.default
      : Math.min(options.ttl.max, Math.max(options.ttl.min, v.ttl));
  const expiresAt = v.time + ttl;
  // the cache keeps a stamp as long as a replay could still pass the expiry check
  const keepUntil = expiresAt + options.slop;
  if (v.time > now + options.slop)
    return new DcpError(
      DcpErrorCode.ETIMETRAVEL,
      `Request was sent from the future (${v.time} > ${now + options.slop})`,
    );
  if (expiresAt < now - options.slop)
    return new DcpError(
      DcpErrorCode.EEXPIRED,
      `Request validity has expired (${expiresAt} < ${now - options.slop})`,
      { timestamp: v.time, offset: now - v.time },
    );
  if (!cache.insert(v.stamp, keepUntil, now))
    return new DcpError(DcpErrorCode.EDUP, `Duplicate request validity stamp: ${v.stamp}`);
  return null;
}
