import { toHex, utf8 } from './bytes';
import { type CryptoPort, getDefaultCrypto } from './crypto/port';
import { open, seal } from './envelope';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';

/**
 * Signed REST requests (dcp-emu's own scheme; DCP itself signs messages, not HTTP requests).
 *
 * The request carries one header, `X-DCP-Signed-Request: <base64url(envelope)>`, where the envelope
 * is a sealed message (see `seal`: `{owner, signature, body}`, the signature an EIP-191 personal
 * signature over `JSON.stringify(body)`) whose body is
 *
 *   {type: 'dcp-emu/rest@1', method, path, bodyHash, timestamp, nonce}
 *
 * - `method`: the HTTP method, upper case;
 * - `path`: the request target as sent (path + query string, e.g. `/api/jobs/abc/cancel`);
 * - `bodyHash`: `0x` + keccak-256 of the exact body bytes (of zero bytes when there is no body);
 * - `timestamp`: milliseconds since the epoch; the service accepts ±`windowMs` (5 minutes) around its clock;
 * - `nonce`: 8–128 characters, fresh per request; a service refuses a nonce it saw within the window.
 *
 * The envelope's owner is the caller: the service then checks that this key owns what the request touches.
 */
export const SIGNED_REQUEST_HEADER = 'x-dcp-signed-request';
export const SIGNED_REQUEST_TYPE = 'dcp-emu/rest@1';
/** How far a request's timestamp may be from the service's clock. */
export const SIGNED_REQUEST_WINDOW_MS = 5 * 60_000;

export interface SignedRequestBody {
  type: typeof SIGNED_REQUEST_TYPE;
  method: string;
  path: string;
  bodyHash: string;
  timestamp: number;
  nonce: string;
}

/** `0x` + keccak-256 hex of a request body (a string is hashed as its UTF-8 bytes). */
export function requestBodyHash(
  body: Uint8Array | string | undefined,
  crypto: CryptoPort = getDefaultCrypto(),
) {
  const bytes = body === undefined ? new Uint8Array(0) : typeof body === 'string' ? utf8(body) : body;
  return `0x${toHex(crypto.keccak256(bytes))}`;
}

function base64url(text: string): string {
  return btoa(String.fromCodePoint(...utf8(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function fromBase64url(text: string): string {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.codePointAt(0) as number));
}

function randomNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return toHex(bytes);
}

/**
 * The headers that sign one request as `identity`: `{'x-dcp-signed-request': …}`. `path` is the
 * request target (path + query) exactly as it will be sent; `body` the exact body text or bytes.
 */
export function signRequest(
  identity: Identity,
  request: { method: string; path: string; body?: Uint8Array | string; timestamp?: number; nonce?: string },
): Record<string, string> {
  const body: SignedRequestBody = {
    type: SIGNED_REQUEST_TYPE,
    method: request.method.toUpperCase(),
    path: request.path,
    bodyHash: requestBodyHash(request.body, identity.crypto),
    timestamp: request.timestamp ?? Date.now(),
    nonce: request.nonce ?? randomNonce(),
  };
  return { [SIGNED_REQUEST_HEADER]: base64url(seal(identity, body)) };
}

/** Remembers nonces for one window so a captured request cannot be sent again. */
export class NonceCache {
  readonly #seen = new Map<string, number>();
  constructor(
    private readonly windowMs = SIGNED_REQUEST_WINDOW_MS,
    private readonly max = 100_000,
  ) {}

  /** False when `key` was seen within the window; records it otherwise. */
  remember(key: string, now: number): boolean {
    if (this.#seen.size >= this.max / 2) this.#prune(now);
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return false;
    if (this.#seen.size >= this.max) return false; // flooded: refuse rather than forget
    this.#seen.set(key, now + 2 * this.windowMs);
    return true;
  }

  #prune(now: number): void {
    for (const [k, until] of this.#seen) if (until <= now) this.#seen.delete(k);
  }
}

export interface VerifyRequestOptions {
  method: string;
  path: string;
  body: Uint8Array | string | undefined;
  now: number;
  nonces: NonceCache;
  windowMs?: number;
  crypto?: CryptoPort;
}

/**
 * Verify a `X-DCP-Signed-Request` header against the request it came with; returns the signer's
 * address (EIP-55). Throws DcpError: EBADSIG (malformed, bad signature, other method/path/body),
 * EEXPIRED / ETIMETRAVEL (timestamp out of the window), EDUP (nonce replayed).
 */
export function verifySignedRequest(header: string, o: VerifyRequestOptions): string {
  const crypto = o.crypto ?? getDefaultCrypto();
  const windowMs = o.windowMs ?? SIGNED_REQUEST_WINDOW_MS;
  let sealed: string;
  try {
    sealed = fromBase64url(header.trim());
  } catch {
    throw new DcpError(DcpErrorCode.EBADSIG, 'signed request header is not base64url');
  }
  let envelope: ReturnType<typeof open>;
  try {
    envelope = open(sealed, crypto);
  } catch (e) {
    throw new DcpError(
      DcpErrorCode.EBADSIG,
      `signed request header: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const b = envelope.body as Partial<SignedRequestBody>;
  if (b.type !== SIGNED_REQUEST_TYPE)
    throw new DcpError(DcpErrorCode.EBADSIG, `signed request type must be ${SIGNED_REQUEST_TYPE}`);
  if (b.method !== o.method.toUpperCase() || b.path !== o.path)
    throw new DcpError(DcpErrorCode.EBADSIG, `the signature is for ${b.method} ${b.path}, not this request`);
  if (b.bodyHash !== requestBodyHash(o.body, crypto))
    throw new DcpError(DcpErrorCode.EBADSIG, 'the signature does not cover this request body');
  if (typeof b.timestamp !== 'number' || !Number.isFinite(b.timestamp))
    throw new DcpError(DcpErrorCode.EBADSIG, 'signed request has no timestamp');
  if (b.timestamp < o.now - windowMs)
    throw new DcpError(DcpErrorCode.EEXPIRED, 'signed request expired (its timestamp is too old)');
  if (b.timestamp > o.now + windowMs)
    throw new DcpError(DcpErrorCode.ETIMETRAVEL, 'signed request timestamp is in the future');
  if (typeof b.nonce !== 'string' || b.nonce.length < 8 || b.nonce.length > 128)
    throw new DcpError(DcpErrorCode.EBADSIG, 'signed request nonce must be 8–128 characters');
  if (!o.nonces.remember(`${envelope.owner.toLowerCase()} ${b.nonce}`, o.now))
    throw new DcpError(DcpErrorCode.EDUP, 'signed request replayed (nonce already used)');
  return envelope.owner;
}
