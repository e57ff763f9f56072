import { defaultDatabaseUrl } from '@dcp-emu/db';
import { commonEnv, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';

export interface SchedulerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  logLevel: LogLevel;
}

const shape = {
  ...commonEnv,
  DCP_EMU_SCHEDULER_PORT: port.default(7430),
  DCP_EMU_DATABASE_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
};

/** The scheduler's settings from `DCP_EMU_*` env vars (see README's configuration table). */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  return loadConfig(
    'scheduler',
    shape,
    (e, dataDir) => ({
      host: e.DCP_EMU_HOST,
      port: e.DCP_EMU_SCHEDULER_PORT,
      dataDir,
      databaseUrl: e.DCP_EMU_DATABASE_URL ?? e.DATABASE_URL ?? defaultDatabaseUrl(dataDir),
      logLevel: e.DCP_EMU_LOG_LEVEL,
    }),
    env,
  );
}
