import { commonEnv, type LogLevel, loadConfig, port } from '@dcp-emu/service-kit';

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
}

const shape = {
  ...commonEnv,
  DCP_EMU_WORKER_PORT: port.default(7433),
  DCP_EMU_EVALUATOR_HOST: commonEnv.DCP_EMU_HOST,
  DCP_EMU_EVALUATOR_PORT: port.default(7434),
};

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(
    'worker',
    shape,
    (e, dataDir) => ({
      host: e.DCP_EMU_HOST,
      port: e.DCP_EMU_WORKER_PORT,
      evaluatorHost: e.DCP_EMU_EVALUATOR_HOST,
      evaluatorPort: e.DCP_EMU_EVALUATOR_PORT,
      startEvaluator: env.DCP_EMU_WORKER_EVALUATOR !== 'external',
      dataDir,
      logLevel: e.DCP_EMU_LOG_LEVEL,
    }),
    env,
  );
}
