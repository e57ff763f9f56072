import { availableParallelism } from 'node:os';
import { commonEnv, flag, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';
import { z } from 'zod';
import { type ComputeGroupCredentials, type MinimumWage, parseComputeGroup } from './supervisor';

export interface WorkerConfig {
  host: string;
  /** HTTP port of the worker's health/status endpoint. */
  port: number;
  /** Where the worker's evaluator listens (it starts one unless DCP_EMU_WORKER_EVALUATOR=external). */
  evaluatorHost: string;
  evaluatorPort: number;
  startEvaluator: boolean;
  dataDir: string;
  logLevel: LogLevel;
  /** run the supervisor (fetch and compute slices); off = serve only the evaluator */
  supervisor: boolean;
  /** the scheduler to work for (its `/etc/dcp-config.kvin` names the services) */
  schedulerUrl: URL;
  /** earnings account; default: the worker identity's address */
  paymentAddress: string | undefined;
  sandboxes: number;
  /** least ms between two batches of results (worker-core's resultBatchMs; undefined: its default) */
  resultBatchMs: number | undefined;
  computeGroups: ComputeGroupCredentials[];
  leavePublicGroup: boolean;
  allowOrigins: string[];
  /** deny by default: no loopback origins unless allowed (`DCP_EMU_WORKER_STRICT_ORIGINS`) */
  strictOrigins: boolean;
  /** the stack's other services, never reachable from a work function */
  stackServices: { name: string; url: string }[];
  jobIds: string[];
  minimumWage: MinimumWage;
}

const list = z
  .string()
  .default('')
  .transform((v) => v.split(/[\s,]+/).filter(Boolean));

const shape = {
  ...commonEnv,
  DCP_EMU_WORKER_PORT: port.default(7433),
  DCP_EMU_EVALUATOR_HOST: commonEnv.DCP_EMU_HOST,
  DCP_EMU_EVALUATOR_PORT: port.default(7434),
  DCP_EMU_WORKER_SUPERVISOR: flag.default(true),
  DCP_EMU_SCHEDULER_URL: z.url().default('http://127.0.0.1:7430/'),
  DCP_EMU_WORKER_PAYMENT_ADDRESS: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x address')
    .optional(),
  DCP_EMU_WORKER_SANDBOXES: z.coerce.number().int().positive().optional(),
  /** least ms between two batches of results sent to the scheduler while results flow (default 20) */
  DCP_EMU_WORKER_RESULT_BATCH_MS: z.coerce.number().int().nonnegative().optional(),
  /** `joinKey,joinSecret` (or `joinKey,eh1-…`) entries separated by `;` */
  DCP_EMU_WORKER_COMPUTE_GROUPS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return v
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean)
          .map(parseComputeGroup);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  DCP_EMU_WORKER_LEAVE_PUBLIC_GROUP: flag.default(false),
  DCP_EMU_WORKER_ALLOW_ORIGINS: list,
  DCP_EMU_WORKER_STRICT_ORIGINS: flag.default(false),
  DCP_EMU_BANK_URL: z.url().optional(),
  DCP_EMU_PORTAL_PORT: port.optional(),
  DCP_EMU_WORKER_JOBS: list,
  /** `cpu[,gpu,in,out]` DCC */
  DCP_EMU_WORKER_MINIMUM_WAGE: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,3}$/, 'cpu[,gpu,in,out] numbers')
    .default('0'),
};

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(
    'worker',
    shape,
    (e, dataDir) => {
      const wage = e.DCP_EMU_WORKER_MINIMUM_WAGE.split(',').map(Number);
      return {
        host: e.DCP_EMU_HOST,
        port: e.DCP_EMU_WORKER_PORT,
        evaluatorHost: e.DCP_EMU_EVALUATOR_HOST,
        evaluatorPort: e.DCP_EMU_EVALUATOR_PORT,
        startEvaluator: env.DCP_EMU_WORKER_EVALUATOR !== 'external',
        dataDir,
        logLevel: e.DCP_EMU_LOG_LEVEL,
        supervisor: e.DCP_EMU_WORKER_SUPERVISOR,
        schedulerUrl: new URL(e.DCP_EMU_SCHEDULER_URL),
        paymentAddress: e.DCP_EMU_WORKER_PAYMENT_ADDRESS,
        sandboxes: e.DCP_EMU_WORKER_SANDBOXES ?? Math.max(1, availableParallelism()),
        resultBatchMs: e.DCP_EMU_WORKER_RESULT_BATCH_MS,
        computeGroups: e.DCP_EMU_WORKER_COMPUTE_GROUPS,
        leavePublicGroup: e.DCP_EMU_WORKER_LEAVE_PUBLIC_GROUP,
        allowOrigins: e.DCP_EMU_WORKER_ALLOW_ORIGINS,
        strictOrigins: e.DCP_EMU_WORKER_STRICT_ORIGINS,
        stackServices: [
          { name: 'worker', url: `http://${e.DCP_EMU_HOST}:${e.DCP_EMU_WORKER_PORT}/` },
          { name: 'evaluator', url: `http://${e.DCP_EMU_EVALUATOR_HOST}:${e.DCP_EMU_EVALUATOR_PORT}/` },
          ...(e.DCP_EMU_BANK_URL ? [{ name: 'bank', url: e.DCP_EMU_BANK_URL }] : []),
          ...(e.DCP_EMU_PORTAL_PORT
            ? [{ name: 'portal', url: `http://${e.DCP_EMU_HOST}:${e.DCP_EMU_PORTAL_PORT}/` }]
            : []),
        ],
        jobIds: e.DCP_EMU_WORKER_JOBS,
        minimumWage: { CPU: wage[0] ?? 0, GPU: wage[1] ?? 0, in: wage[2] ?? 0, out: wage[3] ?? 0 },
      };
    },
    env,
  );
}
