import { join } from 'node:path';
import { serviceDatabaseUrl } from '@dcp-emu/db';
import { commonEnv, commonSettings, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';
import { DEV_FAUCET, type FaucetPolicy } from './faucet/faucet-policy';
import { dccAmountSchema } from './ledger/amount';

export interface BankConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  logLevel: LogLevel;
  /** the bank's DCP identity (teller), created once: `<dataDir>/bank.keystore` */
  identityFile: string;
  faucet: FaucetPolicy;
  /** identities allowed to hold/capture/release escrow (besides the one found at `schedulerUrl`) */
  schedulers: string[];
  /** the scheduler whose identity (`GET /api/identity`) is trusted for escrow */
  schedulerUrl?: string;
}

const shape = {
  ...commonEnv,
  DCP_EMU_BANK_PORT: port.default(7431),
  /** this service's own database; else the shared one below; else `<data dir>/bank.sqlite` */
  DCP_EMU_BANK_DATABASE_URL: z.string().min(1).optional(),
  DCP_EMU_DATABASE_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  /** comma-separated scheduler identity addresses trusted for escrow (self-hosting) */
  DCP_EMU_BANK_SCHEDULERS: z
    .string()
    .regex(/^(0x[0-9a-fA-F]{40})?(,0x[0-9a-fA-F]{40})*$/, 'comma-separated addresses')
    .default(''),
  DCP_EMU_SCHEDULER_URL: z.string().url().optional(),
  /** the dev faucet (`POST /api/faucet`): on by default, off for a self-hosted bank */
  DCP_EMU_BANK_FAUCET: z.enum(['on', 'off']).default('on'),
  /** the most one faucet request may mint, decimal DCC */
  DCP_EMU_BANK_FAUCET_MAX_DCC: dccAmountSchema({ field: 'DCP_EMU_BANK_FAUCET_MAX_DCC' }).default(
    DEV_FAUCET.maxPerMint,
  ),
};

/** The bank's settings from `DCP_EMU_*` env vars (see README's configuration table). */
export function loadBankConfig(env: NodeJS.ProcessEnv = process.env): BankConfig {
  return loadConfig(
    'bank',
    shape,
    (e, dataDir) => ({
      ...commonSettings(e, dataDir),
      port: e.DCP_EMU_BANK_PORT,
      databaseUrl: serviceDatabaseUrl('bank', e, dataDir),
      identityFile: join(dataDir, 'bank.keystore'),
      schedulers: e.DCP_EMU_BANK_SCHEDULERS.split(',').filter(Boolean),
      schedulerUrl: e.DCP_EMU_SCHEDULER_URL,
      faucet: { enabled: e.DCP_EMU_BANK_FAUCET === 'on', maxPerMint: e.DCP_EMU_BANK_FAUCET_MAX_DCC },
    }),
    env,
  );
}
