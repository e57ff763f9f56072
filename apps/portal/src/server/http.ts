import { DcpErrorCode } from '@dcp-emu/protocol';
import { type PortalError, type Result, httpStatus } from './result';
import { SESSION_COOKIE } from './sessions/sessions';

/** Largest JSON body the portal's API reads. */
export const MAX_BODY_BYTES = 64 * 1024;

const noStore = { 'cache-control': 'no-store' };

export function json(data: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(data, { status, headers: { ...noStore, ...headers } });
}

export function errorResponse(error: PortalError): Response {
  return json({ error }, httpStatus(error.code));
}

export function fromResult<T>(
  result: Result<T>,
  map: (value: T) => unknown = (v) => v,
  status = 200,
): Response {
  return result.ok ? json(map(result.value), status) : errorResponse(result.error);
}

/**
 * Reads a JSON body from a same-origin request. Mutating calls must send `application/json`
 * (a cross-site form cannot, without a CORS preflight we never grant) and, when the browser sends
 * an Origin, it must be this site's: together with SameSite=Lax cookies that closes CSRF.
 */
export async function readJsonBody(
  request: Request,
): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  const refuse = (code: DcpErrorCode, message: string) => ({
    ok: false as const,
    response: errorResponse({ code, message }),
  });
  if (!isSameOrigin(request)) return refuse(DcpErrorCode.EPERM, 'cross-site requests are not accepted');
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    return refuse(DcpErrorCode.EINVAL, 'send the request body as application/json');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return refuse(DcpErrorCode.ETOOBIG, 'the request body is too large');
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    return refuse(DcpErrorCode.ETOOBIG, 'the request body is too large');
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return refuse(DcpErrorCode.EINVAL, 'the request body is not valid JSON');
  }
}

/** True unless the browser says the request comes from another origin. */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get('origin');
  if (!origin || origin === 'null') return origin === null;
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Whether the browser reached us over https (directly or through a proxy). */
export function isHttps(request: Request): boolean {
  const forwarded = request.headers.get('x-forwarded-proto');
  if (forwarded) return forwarded.split(',')[0]?.trim() === 'https';
  return new URL(request.url).protocol === 'https:';
}

export interface CookieOptions {
  secure: boolean;
  expires?: Date;
}

/** The session cookie: httpOnly, SameSite=Lax, Secure over https, whole site. */
export function sessionCookie(token: string, options: CookieOptions): string {
  const parts = [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (options.expires) parts.push(`Expires=${options.expires.toUTCString()}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearedSessionCookie(options: { secure: boolean }): string {
  return sessionCookie('', { ...options, expires: new Date(0) });
}

/** The session token from a request's Cookie header. */
export function sessionTokenOf(request: Request): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}
