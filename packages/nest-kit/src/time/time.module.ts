import { timingSafeEqual } from 'node:crypto';
import {
  Controller,
  type DynamicModule,
  Get,
  HttpStatus,
  Inject,
  Module,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  DcpErrorCode,
  parseDuration,
  type TimeControl,
  timeAdvanceBody,
  timeFreezeBody,
} from '@dcp-emu/protocol/node';
import type { Request, Response } from 'express';

export interface TimeModuleOptions {
  /** the service's clock (a `VirtualClock`): every behaviour-deciding timer of the service runs on it */
  clock: TimeControl;
  /** admin token; default `DCP_EMU_ADMIN_TOKEN`. Without one the module adds no routes. */
  token?: string;
}

export const TIME_OPTIONS = Symbol('TIME_OPTIONS');

function authorized(req: Request, token: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return token.length > 0 && given.length === wanted.length && timingSafeEqual(given, wanted);
}

class BadRequest extends Error {}

/**
 * Virtual time of one service: `GET /admin/time` (status), `POST /admin/time/freeze` (body `{at?}`),
 * `POST /admin/time/advance` (body `{by: "10m" | ms}`: the timers due in the span fire, in order),
 * `POST /admin/time/resume`. Each needs `Authorization: Bearer <admin token>`; every answer is the
 * clock's status `{now, iso, frozen, offsetMs, timers}` (advance adds `fired`), or `{error: {code, message}}`.
 */
@Controller('admin/time')
export class TimeController {
  constructor(@Inject(TIME_OPTIONS) private readonly opts: TimeModuleOptions & { token: string }) {}

  async #answer(req: Request, res: Response, fn: () => Promise<unknown> | unknown): Promise<void> {
    if (!authorized(req, this.opts.token)) {
      res
        .status(HttpStatus.UNAUTHORIZED)
        .json({ error: { code: DcpErrorCode.EPERM, message: 'admin token required' } });
      return;
    }
    try {
      res.status(HttpStatus.OK).json(await fn());
    } catch (e) {
      const bad = e instanceof BadRequest || e instanceof RangeError;
      res.status(bad ? HttpStatus.BAD_REQUEST : HttpStatus.INTERNAL_SERVER_ERROR).json({
        error: {
          code: bad ? DcpErrorCode.EINVAL : 'EINTERNAL',
          message: e instanceof Error ? e.message : String(e),
        },
      });
    }
  }

  @Get()
  status(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.opts.clock.status());
  }

  @Post('freeze')
  freeze(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => {
      const body = timeFreezeBody.safeParse(req.body ?? {});
      if (!body.success)
        throw new BadRequest(`freeze takes {at?: ms since the epoch}: ${body.error.message}`);
      return this.opts.clock.freeze(body.data.at);
    });
  }

  @Post('advance')
  advance(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => {
      const body = timeAdvanceBody.safeParse(req.body ?? {});
      if (!body.success) throw new BadRequest(`advance takes {by: "10m" | ms}: ${body.error.message}`);
      return this.opts.clock.advance(parseDuration(body.data.by));
    });
  }

  @Post('resume')
  resume(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.opts.clock.resume());
  }
}

/**
 * The `/admin/time` routes of a service over its clock. Registered with one line in the app module;
 * routes exist only when an admin token is configured (`dcp-emu up` passes one).
 */
@Module({})
export class TimeModule {
  static forRoot(opts: TimeModuleOptions): DynamicModule {
    const token = opts.token ?? process.env.DCP_EMU_ADMIN_TOKEN ?? '';
    if (!token) return { module: TimeModule };
    return {
      module: TimeModule,
      controllers: [TimeController],
      providers: [{ provide: TIME_OPTIONS, useValue: { ...opts, token } }],
    };
  }
}
