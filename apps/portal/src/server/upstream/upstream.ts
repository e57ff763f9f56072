import { DcpErrorCode } from '@dcp-emu/protocol';
import type { z } from 'zod';
import { fail, ok, type Result } from '../result';

/** Which dcp-emu service answers: named in the messages users read. */
export type ServiceName = 'scheduler' | 'bank';

/** A JSON REST service the portal reads on the user's behalf (the scheduler's or the bank's API). */
export interface Upstream {
  readonly name: ServiceName;
  readonly base: URL;
  /** `method path` with an optional JSON body; the answer checked with `schema`; errors as values */
  call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<Result<z.output<S>>>;
}

const KNOWN_CODES = new Set<string>(Object.values(DcpErrorCode));

/** The DCP code and message of an error answer, whatever shape the service used. */
export function upstreamError(
  service: ServiceName,
  status: number,
  payload: unknown,
): { code: DcpErrorCode; message: string } {
  let code: string | undefined;
  let message: string | undefined;
  if (typeof payload === 'object' && payload !== null) {
    const p = payload as { error?: unknown; code?: unknown; message?: unknown };
    if (typeof p.error === 'object' && p.error !== null) {
      const e = p.error as { code?: unknown; message?: unknown };
      if (typeof e.code === 'string') code = e.code;
      if (typeof e.message === 'string') message = e.message;
    } else if (typeof p.error === 'string') {
      message = p.error;
    }
    if (code === undefined && typeof p.code === 'string') code = p.code;
    if (message === undefined && typeof p.message === 'string') message = p.message;
  }
  const known =
    code && KNOWN_CODES.has(code)
      ? (code as DcpErrorCode)
      : status === 404
        ? DcpErrorCode.ENOENT
        : status === 400
          ? DcpErrorCode.EINVAL
          : DcpErrorCode.EINTERNAL;
  return { code: known, message: message ?? `the ${service} answered ${status}` };
}

export interface HttpUpstreamOptions {
  /** bound of each call */
  timeoutMs?: number;
  /**
   * the services' admin token (`DCP_EMU_ADMIN_TOKEN`): the portal's server-side credential for the
   * routes that change things (cancel a job, compute groups) and for private reads beyond loopback.
   * The portal checks itself that the signed-in user owns what they touch.
   */
  adminToken?: string | undefined;
}

/** An Upstream over fetch, each call bounded by `timeoutMs`, with the admin token when there is one. */
export function httpUpstream(name: ServiceName, base: URL, opts: HttpUpstreamOptions = {}): Upstream {
  const timeoutMs = opts.timeoutMs ?? 8_000;
  const auth: Record<string, string> = opts.adminToken ? { authorization: `Bearer ${opts.adminToken}` } : {};
  return {
    name,
    base,
    async call(method, path, schema, body) {
      let response: Response;
      try {
        response = await fetch(new URL(path.replace(/^\//, ''), base), {
          method,
          headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
          cache: 'no-store',
        });
      } catch {
        return fail(
          DcpErrorCode.EFETCH,
          `the ${name} at ${base.origin} did not answer; check that dcp-emu is running, then reload`,
        );
      }
      const payload: unknown = await response.json().catch(() => undefined);
      if (!response.ok) {
        const e = upstreamError(name, response.status, payload);
        return fail(e.code, e.message);
      }
      const parsed = schema.safeParse(payload);
      if (!parsed.success)
        return fail(DcpErrorCode.EINTERNAL, `the ${name} sent an answer the portal does not understand`);
      return ok(parsed.data);
    },
  };
}
