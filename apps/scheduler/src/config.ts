import { serviceDatabaseUrl } from '@dcp-emu/db';
import { dccAmountSchema, formatDcc } from '@dcp-emu/protocol/node';
import { commonEnv, commonSettings, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';
import type { EscrowTerms } from './escrow/escrow';

/** How the scheduler hands out and takes back slices. */
export interface TaskTuning {
  /** a handed-out slice returns to the queue when its worker is silent this long (ms) */
  leaseMs: number;
  /** a slice is taken back at the latest this long after hand-out, even from a live worker (ms) */
  maxLeaseMs: number;
  /** how often expired leases are swept (ms) */
  sweepMs: number;
  /** a localExec job with no client (no subscriber, no lease) this long is cancelled */
  localExecAbandonMs: number;
  /** a task should keep a worker's cores busy about this long (s) */
  targetTaskSeconds: number;
  /** most slices in one task */
  maxTaskSlices: number;
  /**
   * a job whose clients have this many events not yet taken gets no new slices until they catch up:
   * a client slower than the workers (dcp-client takes a few hundred result events a second) slows
   * its job instead of filling the scheduler's memory
   */
  maxEventBacklog: number;
  /** failed attempts of one slice before the job is cancelled */
  maxSliceErrors: number;
  /** failed attempts over the whole job before it is cancelled */
  maxJobErrors: number;
  /** how often workers ask for work (s), served to them as supervisor.tuning.watchdogInterval */
  workerPollSeconds: number;
  /** DCC per slice that a market-value offer (multiplier 1) stands for */
  marketRate: number;
}

export interface SchedulerConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  logLevel: LogLevel;
  /** where the scheduler's own key lives (clients pin it, so it must persist) */
  identityFile: string;
  /** the scheduler's URL as workers reach it (module URLs); default: its listening address */
  publicUrl?: string;
  /** the bank's base URL handed to clients (bank-teller service); default: the scheduler's origin */
  bankUrl?: string;
  /** the scheduler's base URL in the served dcp-config (`--public-url`); default: the request's host */
  publicBaseUrl?: string;
  /** the bank's base URL in the served dcp-config (`--public-bank-url`); default: see publicBases */
  publicBankUrl?: string;
  tuning: TaskTuning;
  /** money: market rate, commission, settlement; jobs are metered only when `bankUrl` is set */
  escrow: EscrowTerms & { enabled: boolean };
  /** identities (besides the scheduler's own) that may broadcast SchedMsgs (`sendSchedMsg`) */
  schedMsgAdmins?: string[];
}

const ms = z.coerce.number().int().min(1);

const shape = {
  ...commonEnv,
  DCP_EMU_SCHEDULER_PORT: port.default(7430),
  /** this service's own database; else the shared one below; else `<data dir>/scheduler.sqlite` */
  DCP_EMU_SCHEDULER_DATABASE_URL: z.string().min(1).optional(),
  DCP_EMU_DATABASE_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  DCP_EMU_BANK_URL: z.string().url().optional(),
  DCP_EMU_SCHEDULER_URL: z.string().url().optional(),
  DCP_EMU_PUBLIC_URL: z.string().url().optional(),
  DCP_EMU_PUBLIC_BANK_URL: z.string().url().optional(),
  DCP_EMU_SCHEDULER_KEYSTORE: z.string().min(1).optional(),
  DCP_EMU_LEASE_MS: ms.default(60_000),
  DCP_EMU_MAX_LEASE_MS: ms.default(3_600_000),
  DCP_EMU_LEASE_SWEEP_MS: ms.default(1_000),
  DCP_EMU_LOCALEXEC_ABANDON_MS: ms.default(60_000),
  DCP_EMU_TARGET_TASK_SECONDS: z.coerce.number().positive().default(10),
  DCP_EMU_MAX_TASK_SLICES: z.coerce.number().int().min(1).default(200),
  DCP_EMU_MAX_EVENT_BACKLOG: z.coerce.number().int().min(1).default(10_000),
  DCP_EMU_MAX_SLICE_ERRORS: z.coerce.number().int().min(1).default(3),
  DCP_EMU_MAX_JOB_ERRORS: z.coerce.number().int().min(1).default(20),
  DCP_EMU_WORKER_POLL_SECONDS: z.coerce.number().positive().default(1),
  /** DCC per slice of a market-value offer (multiplier 1) */
  DCP_EMU_MARKET_RATE: dccAmountSchema({ sign: 'nonNegative', field: 'DCP_EMU_MARKET_RATE' }).default(
    100_000n, // 0.0001 DCC
  ),
  /** the scheduler's commission on each slice payment of public jobs (a decimal rate) */
  DCP_EMU_SCHEDULER_COMMISSION_RATE: z
    .string()
    .regex(/^\d+(\.\d{1,9})?$/, 'a decimal rate such as 0.05')
    .default('0.05'),
  /** `off`: run unmetered even when a bank is configured (no escrow, workers earn 0) */
  DCP_EMU_SCHEDULER_ESCROW: z.enum(['on', 'off']).default('on'),
  DCP_EMU_SETTLE_MS: ms.default(1_000),
  DCP_EMU_SUBMIT_BANK_TIMEOUT_MS: ms.default(10_000),
  /** comma-separated addresses that may broadcast SchedMsgs to every worker (dcp-util schedmsg -b) */
  DCP_EMU_SCHEDMSG_ADMINS: z
    .string()
    .regex(/^\s*(0x[0-9a-fA-F]{40}\s*(,\s*0x[0-9a-fA-F]{40}\s*)*)?$/, 'comma-separated 0x addresses')
    .default(''),
};

export const defaultTuning: TaskTuning = {
  leaseMs: 60_000,
  maxLeaseMs: 3_600_000,
  sweepMs: 1_000,
  localExecAbandonMs: 60_000,
  targetTaskSeconds: 10,
  maxTaskSlices: 200,
  maxEventBacklog: 10_000,
  maxSliceErrors: 3,
  maxJobErrors: 20,
  workerPollSeconds: 1,
  marketRate: 0.0001,
};

/** The scheduler's settings from `DCP_EMU_*` env vars (see README's configuration table). */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  return loadConfig(
    'scheduler',
    shape,
    (e, dataDir) => ({
      ...commonSettings(e, dataDir),
      port: e.DCP_EMU_SCHEDULER_PORT,
      databaseUrl: serviceDatabaseUrl('scheduler', e, dataDir),
      identityFile: e.DCP_EMU_SCHEDULER_KEYSTORE ?? `${dataDir}/keys/scheduler.keystore`,
      bankUrl: e.DCP_EMU_BANK_URL,
      publicUrl: e.DCP_EMU_PUBLIC_URL ?? e.DCP_EMU_SCHEDULER_URL,
      ...(e.DCP_EMU_PUBLIC_URL ? { publicBaseUrl: e.DCP_EMU_PUBLIC_URL } : {}),
      ...(e.DCP_EMU_PUBLIC_BANK_URL ? { publicBankUrl: e.DCP_EMU_PUBLIC_BANK_URL } : {}),
      tuning: {
        leaseMs: e.DCP_EMU_LEASE_MS,
        maxLeaseMs: e.DCP_EMU_MAX_LEASE_MS,
        sweepMs: e.DCP_EMU_LEASE_SWEEP_MS,
        localExecAbandonMs: e.DCP_EMU_LOCALEXEC_ABANDON_MS,
        targetTaskSeconds: e.DCP_EMU_TARGET_TASK_SECONDS,
        maxTaskSlices: e.DCP_EMU_MAX_TASK_SLICES,
        maxEventBacklog: e.DCP_EMU_MAX_EVENT_BACKLOG,
        maxSliceErrors: e.DCP_EMU_MAX_SLICE_ERRORS,
        maxJobErrors: e.DCP_EMU_MAX_JOB_ERRORS,
        workerPollSeconds: e.DCP_EMU_WORKER_POLL_SECONDS,
        marketRate: Number(formatDcc(e.DCP_EMU_MARKET_RATE)),
      },
      escrow: {
        enabled: e.DCP_EMU_SCHEDULER_ESCROW === 'on' && e.DCP_EMU_BANK_URL !== undefined,
        marketRate: e.DCP_EMU_MARKET_RATE,
        commissionRate: e.DCP_EMU_SCHEDULER_COMMISSION_RATE,
        settleMs: e.DCP_EMU_SETTLE_MS,
        holdTimeoutMs: e.DCP_EMU_SUBMIT_BANK_TIMEOUT_MS,
      },
      schedMsgAdmins: e.DCP_EMU_SCHEDMSG_ADMINS.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    }),
    env,
  );
}
