import { commonEnv, flag, loadConfig, logLevel, port } from '@dcp-emu/service-kit';
import { z } from 'zod';

/** Everything the evaluator process can be tuned with. */
export interface EvaluatorConfig {
  /** Address to listen on (DCP's evaluator default: 127.0.0.1). */
  host: string;
  /** TCP port (DCP's evaluator default: 9000; 0 = any free port). */
  port: number;
  /** Heap limit of each sandbox isolate, in MiB (V8 kills the isolate above it → ENOMEM). */
  memoryLimitMb: number;
  /** Most concurrently open sandboxes; further connections are refused. */
  maxSandboxes: number;
  /** Total heap of all isolates above which the largest sandbox is killed (ENOMEM), in MiB. */
  maxTotalHeapMb: number;
  /** A running slice that calls no progress() for this long is killed with ENOPROGRESS. */
  progressTimeoutMs: number;
  /** CPU time one slice may use before it is killed with ESLICETOOSLOW. */
  sliceCpuLimitMs: number;
  /** Longest single synchronous run outside a slice (eval, assign, module load) before ESLICETOOSLOW. */
  callTimeoutMs: number;
  /** Longest accepted protocol line in bytes; longer lines are a framing error that ends the session. */
  maxLineBytes: number;
  /** Unsent output a sandbox may pile up towards a slow supervisor before it is killed (ENOMEM), in MiB. */
  maxOutputBacklogMb: number;
  /** Cap on every WebAssembly.Memory, in 64 KiB pages (process-wide V8 flag). */
  wasmMaxPages: number;
  /** WebAssembly memory one sandbox may create, in MiB; each memory is charged at its maximum → ENOMEM. */
  wasmBudgetMb: number;
  /** Exit when standard input closes (the parent that spawned us with a pipe died). */
  exitWithParent: boolean;
  /** Resident memory of the process (beyond its start) above which the largest sandbox is killed, in MiB. */
  maxRssMb: number;
  /** How often the watchdog checks progress, CPU time and load, in ms. */
  watchdogIntervalMs: number;
  logLevel: z.infer<typeof logLevel>;
}

const positive = z.coerce.number().int().positive();

const envShape = {
  DCP_EMU_LOG_LEVEL: commonEnv.DCP_EMU_LOG_LEVEL,
  DCP_EMU_EVALUATOR_HOST: z.string().min(1).default('127.0.0.1'),
  DCP_EMU_EVALUATOR_PORT: port.default(9000),
  DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: positive.min(8).default(256),
  DCP_EMU_EVALUATOR_MAX_SANDBOXES: positive.default(64),
  DCP_EMU_EVALUATOR_MAX_TOTAL_HEAP_MB: positive.default(4096),
  DCP_EMU_EVALUATOR_PROGRESS_TIMEOUT_MS: positive.default(5 * 60_000),
  DCP_EMU_EVALUATOR_SLICE_CPU_LIMIT_MS: positive.default(60 * 60_000),
  DCP_EMU_EVALUATOR_CALL_TIMEOUT_MS: positive.default(20_000),
  DCP_EMU_EVALUATOR_MAX_LINE_BYTES: positive.default(256 * 1024 * 1024),
  DCP_EMU_EVALUATOR_MAX_OUTPUT_BACKLOG_MB: positive.default(64),
  DCP_EMU_EVALUATOR_WASM_MAX_PAGES: positive.default(4096),
  DCP_EMU_EVALUATOR_WASM_BUDGET_MB: positive.default(512),
  DCP_EMU_EVALUATOR_MAX_RSS_MB: positive.optional(),
  DCP_EMU_EVALUATOR_EXIT_WITH_PARENT: flag.default(false),
  DCP_EMU_EVALUATOR_WATCHDOG_MS: positive.default(100),
};

/** Reads the evaluator configuration from `DCP_EMU_EVALUATOR_*` environment variables. */
export function loadEvaluatorConfig(env: NodeJS.ProcessEnv = process.env): EvaluatorConfig {
  return loadConfig(
    'evaluator',
    envShape,
    (e) => ({
      host: e.DCP_EMU_EVALUATOR_HOST,
      port: e.DCP_EMU_EVALUATOR_PORT,
      memoryLimitMb: e.DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB,
      maxSandboxes: e.DCP_EMU_EVALUATOR_MAX_SANDBOXES,
      maxTotalHeapMb: e.DCP_EMU_EVALUATOR_MAX_TOTAL_HEAP_MB,
      progressTimeoutMs: e.DCP_EMU_EVALUATOR_PROGRESS_TIMEOUT_MS,
      sliceCpuLimitMs: e.DCP_EMU_EVALUATOR_SLICE_CPU_LIMIT_MS,
      callTimeoutMs: e.DCP_EMU_EVALUATOR_CALL_TIMEOUT_MS,
      maxLineBytes: e.DCP_EMU_EVALUATOR_MAX_LINE_BYTES,
      maxOutputBacklogMb: e.DCP_EMU_EVALUATOR_MAX_OUTPUT_BACKLOG_MB,
      wasmMaxPages: e.DCP_EMU_EVALUATOR_WASM_MAX_PAGES,
      wasmBudgetMb: e.DCP_EMU_EVALUATOR_WASM_BUDGET_MB,
      maxRssMb: e.DCP_EMU_EVALUATOR_MAX_RSS_MB ?? e.DCP_EMU_EVALUATOR_MAX_TOTAL_HEAP_MB + 1024,
      exitWithParent: e.DCP_EMU_EVALUATOR_EXIT_WITH_PARENT,
      watchdogIntervalMs: e.DCP_EMU_EVALUATOR_WATCHDOG_MS,
      logLevel: e.DCP_EMU_LOG_LEVEL,
    }),
    env,
  );
}

const cliFlags: Record<string, keyof EvaluatorConfig> = {
  '-p': 'port',
  '--port': 'port',
  '-H': 'host',
  '--host': 'host',
  '--hostname': 'host',
  '--listen': 'host',
  '--memory-limit': 'memoryLimitMb',
  '--max-sandboxes': 'maxSandboxes',
  '--max-total-heap': 'maxTotalHeapMb',
  '--progress-timeout': 'progressTimeoutMs',
  '--slice-cpu-limit': 'sliceCpuLimitMs',
  '--call-timeout': 'callTimeoutMs',
  '--wasm-budget': 'wasmBudgetMb',
};

export const usage = `Usage: dcp-emu-evaluator [options]
  -p, --port <n>             TCP port (default 9000, env DCP_EMU_EVALUATOR_PORT)
  -H, --host <addr>          listen address (default 127.0.0.1, env DCP_EMU_EVALUATOR_HOST)
  --memory-limit <MiB>       heap limit per sandbox (default 256)
  --max-sandboxes <n>        refuse connections above this many sandboxes (default 64)
  --max-total-heap <MiB>     kill the largest sandbox above this total heap (default 4096)
  --progress-timeout <ms>    ENOPROGRESS after this long without progress() (default 300000)
  --slice-cpu-limit <ms>     ESLICETOOSLOW above this CPU time per slice (default 3600000)
  --call-timeout <ms>        limit of one run outside a slice (default 20000)
  --wasm-budget <MiB>        WebAssembly memory per sandbox, each memory at its maximum (default 512)
  --exit-with-parent         exit when standard input closes (a supervisor's pipe)
  -h, --help                 this text
Every option also has a DCP_EMU_EVALUATOR_* environment variable.`;

/** Applies command-line flags over an environment-derived configuration. */
export function applyArgs(base: EvaluatorConfig, argv: readonly string[]): EvaluatorConfig | 'help' {
  const out: EvaluatorConfig = { ...base };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--exit-with-parent') {
      out.exitWithParent = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const key = cliFlags[flag];
    if (!key) throw new Error(`unknown option ${arg}\n${usage}`);
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    if (key === 'host') out.host = value;
    else {
      const n = Number(value);
      const ok = Number.isInteger(n) && (key === 'port' ? n >= 0 && n <= 65535 : n > 0);
      if (!ok) throw new Error(`option ${flag}: invalid number '${value}'`);
      (out as unknown as Record<string, number>)[key] = n;
    }
  }
  return out;
}
