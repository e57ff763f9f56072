import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import type { Request, Response } from 'express';
import { SCHEDULER_CORE, type SchedulerCore } from '../core';
import { JNU_METHODS, type JnuMethod } from './jnu.usecase';

/**
 * `<scheduler>/jnu/` (dcpConfig.scheduler.services.jnu): thin HTTP around `JnuDatabase`. Answers
 * are exactly `application/json` (dcp-client refuses any other content-type, even with a charset).
 */
@Controller('jnu')
export class JnuController {
  constructor(@Inject(SCHEDULER_CORE) private readonly core: SchedulerCore) {}

  @Get('time')
  time(@Res() res: Response): void {
    send(res, 200, this.core.jnu.time());
  }

  @Post(':method')
  async post(
    @Param('method') method: string,
    @Req() req: Request & { rawBody?: Buffer },
    @Res() res: Response,
  ): Promise<void> {
    try {
      if (!(JNU_METHODS as readonly string[]).includes(method))
        throw new DcpError(DcpErrorCode.ENOENT, `no jnu method ${method}`);
      const raw = req.rawBody?.toString('utf8') ?? JSON.stringify(req.body ?? {});
      send(res, 200, { success: true, ...(await this.core.jnu.execute(method as JnuMethod, raw)) });
    } catch (error) {
      const known = error instanceof DcpError;
      if (!known) this.core.ctx.logger.error({ err: error, method }, 'jnu request failed');
      const message = known ? error.message : 'internal error';
      const code = known ? error.code : DcpErrorCode.EINTERNAL;
      send(res, known ? 400 : 500, { success: false, error: { message, code } });
    }
  }
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status);
  res.setHeader('content-type', 'application/json');
  res.setHeader('access-control-allow-origin', '*');
  res.end(JSON.stringify(body));
}
