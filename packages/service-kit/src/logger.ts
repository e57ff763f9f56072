import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * Structured JSON logs on stdout, one object per line, with the service name on each.
 * `DCP_EMU_LOG_LEVEL` sets the level; tests pass 'silent'. `destination` sends the lines elsewhere.
 */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  /** where the JSON lines go instead of stdout (e.g. dcp-emu-worker's -o syslog / logfile) */
  destination?: { write(line: string): void },
): Logger {
  const options = { name: service, level, base: { service, pid: process.pid } };
  return destination ? pino(options, destination) : pino(options);
}
