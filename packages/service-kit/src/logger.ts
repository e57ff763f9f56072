import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * Structured JSON logs on stdout, one object per line, with the service name on each.
 * `DCP_EMU_LOG_LEVEL` sets the level; tests pass 'silent'.
 */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
