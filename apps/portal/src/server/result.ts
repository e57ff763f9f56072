import { DcpErrorCode } from '@dcp-emu/protocol';

/** Errors are values; route handlers turn them into JSON responses with a DCP code. */
export interface PortalError {
  code: DcpErrorCode;
  message: string;
  /** the form field the message is about, so the UI can point at it */
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: PortalError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (
  code: DcpErrorCode,
  message: string,
  field?: string,
): { ok: false; error: PortalError } => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});

/** HTTP status for each code the portal uses. */
export function httpStatus(code: DcpErrorCode | string): number {
  switch (code) {
    case DcpErrorCode.EINVAL:
      return 400;
    case DcpErrorCode.ENOSESSION:
    case DcpErrorCode.EPERM:
      return 401;
    case DcpErrorCode.EBADSIG:
    case DcpErrorCode.EEXPIRED:
      return 403;
    case DcpErrorCode.ENOENT:
      return 404;
    case DcpErrorCode.ENOFUNDS:
      return 402;
    case DcpErrorCode.EJOBSTATE:
    case DcpErrorCode.EGROUP:
    case DcpErrorCode.EDUP:
      return 409;
    case DcpErrorCode.EFETCH:
      return 502;
    case DcpErrorCode.ETOOBIG:
      return 413;
    default:
      return 500;
  }
}
