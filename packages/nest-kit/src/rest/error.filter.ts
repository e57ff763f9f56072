import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { Response } from 'express';

/**
 * The one REST error shape of every dcp-emu service: `{error: {code, message}}` with a DCP error
 * code (DcpErrorCode), plus optional details (e.g. `issues` of an invalid body) beside `error`.
 */
export interface RestErrorBody {
  error: { code: string; message: string };
  [detail: string]: unknown;
}

const STATUS_OF_CODE: Partial<Record<string, number>> = {
  [DcpErrorCode.EINVAL]: 400,
  [DcpErrorCode.EBADSIG]: 401,
  [DcpErrorCode.EEXPIRED]: 401,
  [DcpErrorCode.ETIMETRAVEL]: 401,
  [DcpErrorCode.EPERM]: 403,
  [DcpErrorCode.ENOENT]: 404,
  [DcpErrorCode.ENOACCOUNT]: 404,
  [DcpErrorCode.ENOFUNDS]: 409,
  [DcpErrorCode.EDUP]: 409,
  [DcpErrorCode.EJOBSTATE]: 409,
  [DcpErrorCode.EGROUP]: 409,
  [DcpErrorCode.ETOOBIG]: 413,
  [DcpErrorCode.ENOTSUP]: 501,
};

/** HTTP status of a DCP error code (500 for anything not caused by the request). */
export function httpStatusOf(code: string): number {
  return STATUS_OF_CODE[code] ?? 500;
}

/** DCP error code of an HTTP status, for errors raised without one. */
export function codeOfStatus(status: number): DcpErrorCode {
  if (status === 401 || status === 403) return DcpErrorCode.EPERM;
  if (status === 404) return DcpErrorCode.ENOENT;
  if (status === 405) return DcpErrorCode.ENOTSUP;
  if (status === 413) return DcpErrorCode.ETOOBIG;
  if (status >= 500) return DcpErrorCode.EINTERNAL;
  return DcpErrorCode.EINVAL;
}

/** An HttpException that answers `{error: {code, message}, ...details}` with `status`. */
export function restError(
  status: number,
  code: DcpErrorCode | string,
  message: string,
  details: Record<string, unknown> = {},
): HttpException {
  return new HttpException({ ...details, error: { code, message } } satisfies RestErrorBody, status);
}

/** A 400 EINVAL answer listing a zod error's issues (`path: message`) in the message and in `issues`. */
export function invalidRequest(what: string, issues: readonly { path: PropertyKey[]; message: string }[]) {
  const list = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return restError(400, DcpErrorCode.EINVAL, `invalid ${what}: ${list.join('; ')}`, { issues: list });
}

function isErrorBody(value: unknown): value is RestErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const e = (value as { error?: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/** The status of an http-errors error (what express' body parsers throw: 413 too large, 400 bad JSON). */
function httpErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 600 && expose === true ? status : undefined;
}

/** Maps any failure to `{status, body}` of the one REST error shape. */
export function restErrorOf(error: unknown): { status: number; body: RestErrorBody; internal: boolean } {
  if (error instanceof DcpError) {
    const status = httpStatusOf(error.code);
    const internal = status >= 500;
    return {
      status,
      body: { error: { code: error.code, message: internal ? 'internal error' : error.message } },
      internal,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    if (isErrorBody(response)) return { status, body: response, internal: false };
    let message = error.message;
    if (typeof response === 'object' && response !== null) {
      const r = response as { error?: unknown; message?: unknown };
      if (typeof r.message === 'string') message = r.message;
      else if (Array.isArray(r.message)) message = r.message.join('; ');
      else if (typeof r.error === 'string') message = r.error;
    } else if (typeof response === 'string') message = response;
    return { status, body: { error: { code: codeOfStatus(status), message } }, internal: status >= 500 };
  }
  const status = httpErrorStatus(error);
  if (status !== undefined) {
    const type = (error as { type?: unknown }).type;
    const limit = (error as { limit?: unknown }).limit;
    const message =
      status === 413
        ? `the request body is too large${typeof limit === 'number' ? ` (at most ${limit} bytes)` : ''}`
        : type === 'entity.parse.failed'
          ? 'the request body is not valid JSON'
          : (error as Error).message;
    return { status, body: { error: { code: codeOfStatus(status), message } }, internal: false };
  }
  return {
    status: 500,
    body: { error: { code: DcpErrorCode.EINTERNAL, message: 'internal error' } },
    internal: true,
  };
}

/**
 * Every failure of a service's REST API, also body-parser failures (413 for oversized bodies) and
 * unknown routes, as `{error: {code, message}}`. Internal failures are logged and not detailed.
 */
@Catch()
export class RestErrorFilter implements ExceptionFilter {
  readonly #logger = new Logger('RestApi');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body, internal } = restErrorOf(error);
    if (internal) this.#logger.error({ msg: 'request failed', err: error });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  }
}
