import { serviceDatabaseUrl } from '@dcp-emu/db';
import { commonEnv, flag, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';

export interface PortalConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: z.infer<typeof commonEnv.DCP_EMU_LOG_LEVEL>;
  /** `file:…` (SQLite) or `postgresql://…[?schema=portal]` (see serviceDatabaseUrl of @dcp-emu/db) */
  databaseUrl: string;
  schedulerUrl: URL;
  bankUrl: URL;
  /** force the cookie's Secure flag even when the request looks like plain http */
  secureCookies: boolean;
  /** scrypt cost for account passwords (log2 N); tests lower it */
  passwordScryptLog2N: number;
  /** the services' admin token (`DCP_EMU_ADMIN_TOKEN`, passed by `dcp-emu up`), sent to the scheduler and bank */
  adminToken: string | undefined;
}

const baseUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((u) => new URL(u));

export const portalEnv = {
  ...commonEnv,
  DCP_EMU_PORTAL_PORT: port.default(7432),
  /** the portal's own database; else the shared one below; else `<data dir>/portal.sqlite` */
  DCP_EMU_PORTAL_DATABASE_URL: z.string().min(1).optional(),
  DCP_EMU_DATABASE_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  DCP_EMU_SCHEDULER_URL: baseUrl.default(new URL('http://127.0.0.1:7430/')),
  DCP_EMU_BANK_URL: baseUrl.default(new URL('http://127.0.0.1:7431/')),
  DCP_EMU_PORTAL_SECURE_COOKIES: flag.default(false),
  DCP_EMU_PORTAL_PASSWORD_LOG2N: z.coerce.number().int().min(10).max(20).default(16),
  DCP_EMU_ADMIN_TOKEN: z.string().min(1).optional(),
};

export function loadPortalConfig(env: Record<string, string | undefined> = process.env): PortalConfig {
  return loadConfig(
    'portal',
    portalEnv,
    (e, dataDir) => ({
      host: e.DCP_EMU_HOST,
      port: e.DCP_EMU_PORTAL_PORT,
      dataDir,
      logLevel: e.DCP_EMU_LOG_LEVEL,
      databaseUrl: serviceDatabaseUrl('portal', e, dataDir),
      schedulerUrl: e.DCP_EMU_SCHEDULER_URL,
      bankUrl: e.DCP_EMU_BANK_URL,
      secureCookies: e.DCP_EMU_PORTAL_SECURE_COOKIES,
      passwordScryptLog2N: e.DCP_EMU_PORTAL_PASSWORD_LOG2N,
      adminToken: e.DCP_EMU_ADMIN_TOKEN,
    }),
    env as NodeJS.ProcessEnv,
  );
}
