import { timingSafeEqual } from 'node:crypto';
import {
  Controller,
  type DynamicModule,
  Get,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  Module,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DcpErrorCode } from '@dcp-emu/protocol';
import {
  type DatabaseLocation,
  DatabaseState,
  parseSnapshotName,
  StateError,
  type StateInfo,
  type StateParticipant,
} from '@dcp-emu/db';
import type { Request, Response } from 'express';

export interface StateModuleOptions {
  /** the service's database URL (file:… or postgresql://…) and data dir (snapshots live under it) */
  url: string;
  dataDir: string;
  /** injection token of the service's StateParticipant, resolved anywhere in the app */
  participant?: string | symbol;
  /** admin token; default `DCP_EMU_ADMIN_TOKEN`. Without one the module adds no routes. */
  token?: string;
}

export const STATE_OPTIONS = Symbol('STATE_OPTIONS');

/** The service's state operations (`DatabaseState` of @dcp-emu/db) with its participant from the app. */
@Injectable()
export class StateService {
  readonly #state: DatabaseState;

  constructor(@Inject(STATE_OPTIONS) opts: StateModuleOptions, @Inject(ModuleRef) modules: ModuleRef) {
    const logger = new Logger('State');
    const token = opts.participant;
    this.#state = new DatabaseState({
      url: opts.url,
      dataDir: opts.dataDir,
      ...(token ? { participant: () => modules.get<StateParticipant>(token, { strict: false }) } : {}),
      log: (entry) => logger.log(entry),
    });
  }

  get location(): DatabaseLocation {
    return this.#state.location;
  }

  info(): StateInfo {
    return this.#state.info();
  }

  save(name: string): Promise<{ file: string }> {
    return this.#state.save(name);
  }

  restore(name: string): Promise<{ file: string; tables: number }> {
    return this.#state.restore(name);
  }

  clear(): Promise<{ tables: number }> {
    return this.#state.clear();
  }
}

function authorized(req: Request, token: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * `GET /admin/state` and `POST /admin/state/{save,restore,clear}` (body `{name}` for the first two),
 * each needing `Authorization: Bearer <admin token>`. Answers `{error: {code, message}}` on failure.
 */
@Controller('admin/state')
export class StateController {
  constructor(
    @Inject(StateService) private readonly state: StateService,
    @Inject(STATE_OPTIONS) private readonly opts: StateModuleOptions,
  ) {}

  async #answer(req: Request, res: Response, fn: () => Promise<unknown> | unknown): Promise<void> {
    if (!authorized(req, this.opts.token ?? '')) {
      res
        .status(HttpStatus.UNAUTHORIZED)
        .json({ error: { code: DcpErrorCode.EPERM, message: 'admin token required' } });
      return;
    }
    try {
      res.status(HttpStatus.OK).json(await fn());
    } catch (e) {
      if (e instanceof StateError) {
        const status =
          e.code === 'ENOSNAPSHOT'
            ? HttpStatus.NOT_FOUND
            : e.code === 'EUNSUPPORTED'
              ? HttpStatus.NOT_IMPLEMENTED
              : HttpStatus.CONFLICT;
        res.status(status).json({ error: { code: e.code, message: e.message } });
        return;
      }
      new Logger('State').error({ msg: 'state operation failed', err: e });
      res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({
        error: { code: DcpErrorCode.EINTERNAL, message: e instanceof Error ? e.message : String(e) },
      });
    }
  }

  @Get()
  info(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.state.info());
  }

  @Post('save')
  save(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.state.save(parseSnapshotName(req.body)));
  }

  @Post('restore')
  restore(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.state.restore(parseSnapshotName(req.body)));
  }

  @Post('clear')
  clear(@Req() req: Request, @Res() res: Response) {
    return this.#answer(req, res, () => this.state.clear());
  }
}

/**
 * The emulator's state surface (reset / snapshots) for one service. Registered with one line in the
 * app module; routes exist only when an admin token is configured (`dcp-emu up` passes one).
 */
@Module({})
export class StateModule {
  static forRoot(opts: StateModuleOptions): DynamicModule {
    const token = opts.token ?? process.env.DCP_EMU_ADMIN_TOKEN ?? '';
    if (!token) return { module: StateModule };
    return {
      module: StateModule,
      controllers: [StateController],
      providers: [{ provide: STATE_OPTIONS, useValue: { ...opts, token } }, StateService],
      exports: [StateService],
    };
  }
}
