import { timingSafeEqual } from 'node:crypto';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import {
  DcpError,
  DcpErrorCode,
  NonceCache,
  SIGNED_REQUEST_HEADER,
  SIGNED_REQUEST_WINDOW_MS,
  verifySignedRequest,
} from '@dcp-emu/protocol';
import { restError } from './error.filter';

/** Who made a REST request: the admin (token) or the key that signed it. */
export type Caller = { kind: 'admin' } | { kind: 'signer'; address: string };

/** The parts of an HTTP request authentication reads (express' Request fits). */
export interface AuthRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  /** the exact body bytes (Nest's `rawBody: true`) */
  rawBody?: Buffer;
}

export interface RestAuthOptions {
  /** the admin token (`dcp-emu up` writes `<data dir>/admin.token`); none: admin calls are refused */
  adminToken?: string | undefined;
  /** the bind address: on loopback, reads stay open to anyone who can connect */
  host: string;
  /** ms since the epoch */
  now?: () => number;
  windowMs?: number;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function header(req: AuthRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Authentication and ownership checks of the REST routes (see README "Security model"): a caller
 * is the admin (`Authorization: Bearer <admin token>`) or the key of a signed request
 * (`X-DCP-Signed-Request`, packages/protocol's signed-request). Refusals are `{error: {code,
 * message}}`: 401 without (valid) credentials, 403 for a valid signer who does not own the thing.
 */
export class RestAuth {
  readonly #token: Buffer | undefined;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #nonces: NonceCache;
  readonly #callers = new WeakMap<object, Caller | undefined>();
  /** the service listens on loopback: reads of other users' jobs, results and consoles need no credentials */
  readonly loopback: boolean;

  constructor(opts: RestAuthOptions) {
    this.#token = opts.adminToken ? Buffer.from(`Bearer ${opts.adminToken}`) : undefined;
    this.#now = opts.now ?? Date.now;
    this.#windowMs = opts.windowMs ?? SIGNED_REQUEST_WINDOW_MS;
    this.#nonces = new NonceCache(this.#windowMs);
    this.loopback = isLoopbackHost(opts.host);
  }

  /** The caller, or undefined when the request carries no credentials; 401 for wrong ones. */
  authenticate(req: AuthRequest): Caller | undefined {
    if (this.#callers.has(req)) return this.#callers.get(req);
    const caller = this.#authenticate(req);
    this.#callers.set(req, caller);
    return caller;
  }

  #authenticate(req: AuthRequest): Caller | undefined {
    const authorization = header(req, 'authorization');
    const signed = header(req, SIGNED_REQUEST_HEADER);
    if (authorization !== undefined) {
      const given = Buffer.from(authorization.trim());
      if (this.#token && given.length === this.#token.length && timingSafeEqual(given, this.#token))
        return { kind: 'admin' };
      throw restError(401, DcpErrorCode.EPERM, 'wrong admin token');
    }
    if (signed === undefined) return undefined;
    try {
      const address = verifySignedRequest(signed, {
        method: req.method,
        path: req.originalUrl ?? req.url ?? '/',
        body: req.rawBody,
        now: this.#now(),
        nonces: this.#nonces,
        windowMs: this.#windowMs,
      });
      return { kind: 'signer', address };
    } catch (e) {
      if (e instanceof DcpError) throw restError(401, e.code, e.message);
      throw e;
    }
  }

  /** Any authenticated caller (admin or a valid signature); 401 otherwise. */
  requireCaller(req: AuthRequest, what: string): Caller {
    const caller = this.authenticate(req);
    if (!caller)
      throw restError(
        401,
        DcpErrorCode.EPERM,
        `${what} needs the admin token or a request signed by its owner (${SIGNED_REQUEST_HEADER})`,
      );
    return caller;
  }

  /** Admin only (e.g. broadcasting to every worker). */
  requireAdmin(req: AuthRequest, what: string): Caller {
    const caller = this.authenticate(req);
    if (!caller) throw restError(401, DcpErrorCode.EPERM, `${what} needs the admin token`);
    if (caller.kind !== 'admin')
      throw restError(403, DcpErrorCode.EPERM, `${what} needs the admin token; ${caller.address} may not`);
    return caller;
  }

  /** The admin, or a signer among `owners` (addresses, any spelling). */
  requireOwner(req: AuthRequest, owners: readonly (string | undefined | null)[], what: string): Caller {
    const caller = this.requireCaller(req, what);
    if (caller.kind === 'admin') return caller;
    const signer = caller.address.toLowerCase();
    if (!owners.some((o) => typeof o === 'string' && o.toLowerCase() === signer))
      throw restError(403, DcpErrorCode.EPERM, `${caller.address} does not own ${what}`);
    return caller;
  }

  /** Reads of private things: open on loopback, else as `requireOwner`. */
  requireReader(req: AuthRequest, owners: readonly (string | undefined | null)[], what: string): void {
    if (this.loopback) return;
    this.requireOwner(req, owners, what);
  }

  /** Admin or no filtering on loopback; else the signer's address whose things alone may be listed. */
  readerScope(req: AuthRequest, what: string): { all: true } | { all: false; address: string } {
    if (this.loopback) return { all: true };
    const caller = this.authenticate(req);
    if (!caller)
      throw restError(
        401,
        DcpErrorCode.EPERM,
        `${what} needs the admin token or a signed request (the service listens beyond loopback)`,
      );
    return caller.kind === 'admin' ? { all: true } : { all: false, address: caller.address };
  }
}

/**
 * Provides `RestAuth` (global): `RestAuthModule.forRoot({host})`, the admin token from
 * `DCP_EMU_ADMIN_TOKEN` unless given.
 */
@Global()
@Module({})
export class RestAuthModule {
  static forRoot(opts: RestAuthOptions): DynamicModule {
    const auth = new RestAuth({ ...opts, adminToken: opts.adminToken ?? process.env.DCP_EMU_ADMIN_TOKEN });
    return {
      module: RestAuthModule,
      providers: [{ provide: RestAuth, useValue: auth }],
      exports: [RestAuth],
    };
  }
}
