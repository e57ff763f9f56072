import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@dcp-emu/service-kit';

/** Nest's logger calls routed into our pino logger, so every line is one JSON object. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, params: unknown[]) {
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    if (message instanceof Error) this.pino[level]({ err: message, context }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...message, context });
    else this.pino[level]({ context, ...(params.length ? { params } : {}) }, String(message));
  }

  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    // Nest passes (message, stack, context)
    const stack = typeof params[0] === 'string' && params.length > 1 ? (params.shift() as string) : undefined;
    this.write('error', stack ? { msg: String(message), stack } : message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
}
