import 'reflect-metadata';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, type Listening, type Logger, type LogLevel, makePrivate } from '@dcp-emu/service-kit';
import { PinoNestLogger } from './logger';
import { RestErrorFilter } from './rest/error.filter';

export interface ServiceOptions {
  name: string;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** the service's data dir: once started, it and its files (database, keystores) are made 0700/0600 */
  dataDir?: string;
}

export interface RunningService {
  app: INestApplication;
  logger: Logger;
  listening: Listening;
  close(): Promise<void>;
}

/**
 * Creates a Nest app, listens, and logs one `listening` line with the URL. The caller decides about
 * signals (`handleSignals`), so tests can start and stop services in-process.
 */
export async function startService(
  module: Type<unknown> | DynamicModule,
  opts: ServiceOptions,
): Promise<RunningService> {
  const logger = createLogger(opts.name, opts.logLevel);
  // rawBody: signed requests cover the exact body bytes; JSON bodies up to body-parser's 100 kB
  // (larger: 413), every error as {error: {code, message}} (RestErrorFilter)
  const app = await NestFactory.create(module, {
    logger: new PinoNestLogger(logger),
    bodyParser: true,
    rawBody: true,
  });
  app.useGlobalFilters(new RestErrorFilter());
  await app.listen(opts.port, opts.host);
  // the database exists now: SQLite gives its -wal/-shm files the database file's (private) mode
  if (opts.dataDir) makePrivate(opts.dataDir);
  const server = app.getHttpServer();
  const addr = server.address() as { address: string; port: number };
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : addr.address;
  const listening: Listening = { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}/` };
  logger.info({ url: listening.url }, 'listening');
  return { app, logger, listening, close: () => app.close() };
}

/** Graceful stop on SIGINT/SIGTERM: Nest closes modules (DB, sockets), then the process exits. */
export function handleSignals(service: RunningService): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'stopping');
    service
      .close()
      .then(() => process.exit(0))
      .catch((e) => {
        service.logger.error({ err: e }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
