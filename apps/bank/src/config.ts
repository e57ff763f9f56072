import { defaultDatabaseUrl } from '@dcp-emu/db';
import { commonEnv, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';

export interface BankConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  logLevel: LogLevel;
}

const shape = {
  ...commonEnv,
  DCP_EMU_BANK_PORT: port.default(7431),
  DCP_EMU_DATABASE_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
};

/** The bank's settings from `DCP_EMU_*` env vars (see README's configuration table). */
export function loadBankConfig(env: NodeJS.ProcessEnv = process.env): BankConfig {
  return loadConfig(
    'bank',
    shape,
    (e, dataDir) => ({
      host: e.DCP_EMU_HOST,
      port: e.DCP_EMU_BANK_PORT,
      dataDir,
      databaseUrl: e.DCP_EMU_DATABASE_URL ?? e.DATABASE_URL ?? defaultDatabaseUrl(dataDir),
      logLevel: e.DCP_EMU_LOG_LEVEL,
    }),
    env,
  );
}
