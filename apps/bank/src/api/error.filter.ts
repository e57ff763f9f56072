import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { Response } from 'express';

const STATUS: Partial<Record<string, number>> = {
  [DcpErrorCode.EINVAL]: 400,
  [DcpErrorCode.EBADSIG]: 401,
  [DcpErrorCode.EPERM]: 403,
  [DcpErrorCode.ENOENT]: 404,
  [DcpErrorCode.ENOACCOUNT]: 404,
  [DcpErrorCode.ENOFUNDS]: 409,
  [DcpErrorCode.EDUP]: 409,
  [DcpErrorCode.EJOBSTATE]: 409,
};

/** HTTP status of a DCP error code (500 for anything not caused by the request). */
export function httpStatusOf(code: string): number {
  return STATUS[code] ?? 500;
}

/** Every failure of the REST API as `{error: {code, message}}` with a DCP code. */
@Catch()
export class DcpErrorFilter implements ExceptionFilter {
  readonly #logger = new Logger('BankApi');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof DcpError) {
      const status = httpStatusOf(error.code);
      if (status >= 500) this.#logger.error({ msg: 'request failed', err: error });
      res
        .status(status)
        .json({ error: { code: error.code, message: status >= 500 ? 'internal error' : error.message } });
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const code =
        status === 404 ? DcpErrorCode.ENOENT : status < 500 ? DcpErrorCode.EINVAL : DcpErrorCode.EINTERNAL;
      res.status(status).json({ error: { code, message: error.message } });
      return;
    }
    this.#logger.error({ msg: 'request failed', err: error });
    res.status(500).json({ error: { code: DcpErrorCode.EINTERNAL, message: 'internal error' } });
  }
}
