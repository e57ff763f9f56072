import { z } from 'zod';
import { defaultDataDir } from './data-dir';

/** Thrown when the environment does not describe a valid configuration; lists every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid ${service} configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof logLevel>;

/** A TCP port from an env string; 0 asks the OS for a free one. */
export const port = z.coerce.number().int().min(0).max(65535);

/** Boolean env flags: 1/true/yes/on and 0/false/no/off. */
export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', '']))
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** Settings every service shares. */
export const commonEnv = {
  DCP_EMU_DATA_DIR: z.string().min(1).optional(),
  DCP_EMU_LOG_LEVEL: logLevel.default('info'),
  DCP_EMU_HOST: z.string().min(1).default('127.0.0.1'),
};

/** The settings every service reads from `commonEnv`: where it listens, keeps state and how it logs. */
export function commonSettings(
  e: { DCP_EMU_HOST: string; DCP_EMU_LOG_LEVEL: LogLevel },
  dataDir: string,
): { host: string; dataDir: string; logLevel: LogLevel } {
  return { host: e.DCP_EMU_HOST, dataDir, logLevel: e.DCP_EMU_LOG_LEVEL };
}

/**
 * Parses `env` with a zod object of env-var names and maps it to a typed config.
 * Unknown variables are ignored; every invalid one is reported at once.
 */
export function loadConfig<S extends z.ZodRawShape, C>(
  service: string,
  shape: S,
  build: (env: z.infer<z.ZodObject<S>>, dataDir: string) => C,
  env: NodeJS.ProcessEnv = process.env,
): C {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      service,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  return build(parsed.data, defaultDataDir(env));
}
