import { createHash, timingSafeEqual } from 'node:crypto';
import { basename, join } from 'node:path';
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
import { type DatabaseLocation, parseDatabaseUrl } from '@dcp-emu/db';
import type { Request, Response } from 'express';
import { clearDatabase, restoreDatabase, StateError, saveDatabase } from './database-state';

/**
 * A part of the service that keeps state in memory next to the database (the scheduler's lease keeper,
 * …): stopped before the database is replaced and rebuilt from it afterwards.
 */
export interface StateParticipant {
  stop(): void | Promise<void>;
  recover(): Promise<void>;
}

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

/** Snapshot names: letters, digits, `.`, `_`, `-`; `@` first for the CLI's own (`@seed`). */
export const SNAPSHOT_NAME = /^@?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseSnapshotName(body: unknown): string {
  const name = (body as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name))
    throw new StateError('body must be {"name": "<snapshot name: letters, digits, . _ ->"}', 'ENOSNAPSHOT');
  return name;
}

/** Where a snapshot of this database lives: `<dataDir>/snapshots/<name>/<database file name>`. */
export function snapshotFile(dataDir: string, name: string, location: DatabaseLocation): string {
  const file = location.provider === 'sqlite' ? basename(location.target) : 'postgresql';
  return join(dataDir, 'snapshots', name, file);
}

/** A stable id of the database, so a caller can tell which services share one. */
export function databaseId(location: DatabaseLocation): string {
  return createHash('sha256').update(`${location.provider}:${location.target}`).digest('hex').slice(0, 16);
}

@Injectable()
export class StateService {
  readonly location: DatabaseLocation;
  readonly #logger = new Logger('State');
  #busy: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(STATE_OPTIONS) private readonly opts: StateModuleOptions,
    @Inject(ModuleRef) private readonly modules: ModuleRef,
  ) {
    this.location = parseDatabaseUrl(opts.url, opts.dataDir);
  }

  info() {
    return {
      provider: this.location.provider,
      database: databaseId(this.location),
      snapshots: this.location.provider === 'sqlite',
    };
  }

  /** One state operation at a time. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(fn, fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  save(name: string): Promise<{ file: string }> {
    return this.#serial(async () => {
      const file = snapshotFile(this.opts.dataDir, name, this.location);
      await saveDatabase(this.location, file);
      this.#logger.log({ msg: 'snapshot saved', name, file });
      return { file };
    });
  }

  restore(name: string): Promise<{ file: string; tables: number }> {
    const file = snapshotFile(this.opts.dataDir, name, this.location);
    return this.#replacing('snapshot restored', { name, file }, async () => ({
      file,
      ...(await restoreDatabase(this.location, file)),
    }));
  }

  clear(): Promise<{ tables: number }> {
    return this.#replacing('state cleared', {}, () => clearDatabase(this.location));
  }

  #replacing<T>(what: string, detail: object, fn: () => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      const participant = this.opts.participant
        ? this.modules.get<StateParticipant>(this.opts.participant, { strict: false })
        : undefined;
      const started = Date.now();
      try {
        // inside the try: a participant whose stop fails is still rebuilt from the database
        await participant?.stop();
        return await fn();
      } finally {
        await participant?.recover();
        this.#logger.log({ msg: what, ...detail, ms: Date.now() - started });
      }
    });
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
      res.status(HttpStatus.UNAUTHORIZED).json({ error: { code: 'EPERM', message: 'admin token required' } });
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
        error: { code: 'EINTERNAL', message: e instanceof Error ? e.message : String(e) },
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
