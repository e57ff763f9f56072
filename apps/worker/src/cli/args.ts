import { availableParallelism } from 'node:os';
import { type ComputeGroupCredentials, type MinimumWage, parseComputeGroup } from '../supervisor';

export type OutputMode = 'console' | 'dashboard';

/** dcp-emu-worker's options: dcp-worker 3.3.19's flags where they apply (§6.1), plus our own. */
export interface CliOptions {
  schedulerUrl: string;
  output: OutputMode;
  cores: number;
  utilization: number;
  maxSandboxes: number | undefined;
  evaluatorHost: string;
  evaluatorPort: number;
  /** start our own dcp-emu-evaluator (default) or use one already listening at -H/-p */
  startEvaluator: boolean;
  paymentAddress: string | undefined;
  computeGroups: ComputeGroupCredentials[];
  leavePublicGroup: boolean;
  allowOrigins: string[];
  /** deny by default: no loopback origins for job data and work-function fetches unless -a allows them */
  strictOrigins: boolean;
  jobIds: string[];
  minimumWage: MinimumWage;
  identityKey: string | undefined;
  identityFile: string | undefined;
  /** -W; undefined: the scheduler's `supervisor.tuning.watchdogInterval`, else 1 s */
  watchdogIntervalMs: number | undefined;
  cleanupTimeoutMs: number;
  dataDir: string | undefined;
  verbose: number;
  help: boolean;
}

export class UsageError extends Error {}

export const usage = `Usage: dcp-emu-worker [options]

Our DCP worker: fetches slices from a dcp-emu scheduler and computes them in dcp-emu-evaluator sandboxes.

  --dcp-scheduler <url>       scheduler (env DCP_SCHEDULER_LOCATION, DCP_EMU_SCHEDULER_URL; default http://127.0.0.1:7430/)
  -o, --output <mode>         console | dashboard | detect (default: dashboard on a TTY, else console)
  -c, --cores <cpu[,gpu]>     CPU cores to use (default: all)
  -u, --utilization <cpu>     fraction of the cores to use (default 1)
  -m, --maxSandboxes <n>      sandboxes working at once (default: cores x utilization)
  -H, --hostname <host>       evaluator host (default 127.0.0.1)
  -p, --port <port>           evaluator port (default 9000)
      --external-evaluator    do not start dcp-emu-evaluator; use the one at -H/-p
  --paymentAddress <0x...>    account credited with the earnings (default: ~/.dcp/default.keystore, else the identity)
  -g <joinKey,joinSecret>     join a compute group (or joinKey,eh1-<joinHash>); repeatable
  --leavePublicGroup          do not work for the public compute group
  -a, --allowedOrigins <url>  also fetch job artifacts from this origin, and let work functions fetch() it;
      --allow-origin <url>    repeatable. The scheduler's own services are never reachable from a work function.
      --strict-origins        deny by default (with a local scheduler, loopback origins are allowed otherwise)
  -j, --job-id <id>           only work on these jobs; repeatable
  --minimumWage <cpu[,gpu,in,out]>  refuse work paying less (DCC per CPU-hour, GPU-hour, MB in, MB out)
  --identityKey <hex>         the worker's identity private key
  -I, --identity-file <file>  keystore of the worker's identity (default ~/.dcp/id.keystore, else one kept in the data dir)
  -W, --watchdogInterval <ms> idle poll (default: the scheduler's watchdogInterval, else 1000)
  --cleanupTimeout <s>        forced exit this long after a stop signal (default 60)
  --data-dir <dir>            where the worker id and generated identity live (env DCP_EMU_DATA_DIR)
  -v, --verbose               more log output
  -h, --help                  this text

SIGINT/SIGTERM: stop fetching, return queued slices, finish and submit running ones, exit.
A second signal kills the sandboxes and returns everything; a third exits at once.`;

const valueFlags: Record<string, string> = {
  '--dcp-scheduler': 'scheduler',
  '--scheduler': 'scheduler',
  '-o': 'output',
  '--output': 'output',
  '-c': 'cores',
  '--cores': 'cores',
  '-u': 'utilization',
  '--utilization': 'utilization',
  '-m': 'maxSandboxes',
  '--maxSandboxes': 'maxSandboxes',
  '--max-sandboxes': 'maxSandboxes',
  '-H': 'hostname',
  '--hostname': 'hostname',
  '-p': 'port',
  '--port': 'port',
  '--paymentAddress': 'paymentAddress',
  '--payment-address': 'paymentAddress',
  '-g': 'group',
  '--join': 'group',
  '-a': 'origin',
  '--allowedOrigins': 'origin',
  '--allowed-origins': 'origin',
  '--allow-origin': 'origin',
  '-j': 'job',
  '--job-id': 'job',
  '--jobId': 'job',
  '--minimumWage': 'minimumWage',
  '--minimum-wage': 'minimumWage',
  '--identityKey': 'identityKey',
  '-I': 'identityFile',
  '--identity-file': 'identityFile',
  '-W': 'watchdog',
  '--watchdogInterval': 'watchdog',
  '--cleanupTimeout': 'cleanupTimeout',
  '--data-dir': 'dataDir',
};

const boolFlags: Record<string, string> = {
  '--leavePublicGroup': 'leavePublicGroup',
  '--leave-public-group': 'leavePublicGroup',
  '--external-evaluator': 'externalEvaluator',
  '--strict-origins': 'strictOrigins',
  '-v': 'verbose',
  '--verbose': 'verbose',
  '-h': 'help',
  '--help': 'help',
};

function positive(name: string, text: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`${name} must be a positive ${integer ? 'integer' : 'number'}, not "${text}"`);
  return n;
}

/** Parses dcp-emu-worker's command line (`--flag value`, `--flag=value`, repeatable -g/-a/-j). */
export function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): CliOptions {
  const values = new Map<string, string[]>();
  const bools = new Map<string, number>();
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i] ?? '';
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const key = valueFlags[arg];
    if (key) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      values.set(key, [...(values.get(key) ?? []), v]);
      continue;
    }
    const b = boolFlags[arg];
    if (b) {
      bools.set(b, (bools.get(b) ?? 0) + 1);
      continue;
    }
    throw new UsageError(`unknown option ${arg}`);
  }
  const last = (k: string) => values.get(k)?.at(-1);
  const all = (k: string) => (values.get(k) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);

  const outputRaw = last('output') ?? 'detect';
  if (!['console', 'dashboard', 'detect'].includes(outputRaw))
    throw new UsageError(
      `-o must be console, dashboard or detect (other dcp-worker outputs are not supported)`,
    );
  const output: OutputMode =
    outputRaw === 'detect' ? (isTTY ? 'dashboard' : 'console') : (outputRaw as OutputMode);

  const cores = last('cores')
    ? positive('-c', (last('cores') ?? '').split(',')[0] ?? '', true)
    : availableParallelism();
  const utilization = last('utilization')
    ? positive('-u', (last('utilization') ?? '').split(',')[0] ?? '')
    : 1;
  const maxSandboxes = last('maxSandboxes') ? positive('-m', last('maxSandboxes') ?? '', true) : undefined;
  const port = Number(last('port') ?? env.DCP_EMU_EVALUATOR_PORT ?? 9000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`bad evaluator port ${last('port')}`);

  const schedulerUrl =
    last('scheduler') ?? env.DCP_SCHEDULER_LOCATION ?? env.DCP_EMU_SCHEDULER_URL ?? 'http://127.0.0.1:7430/';
  try {
    new URL(schedulerUrl);
  } catch {
    throw new UsageError(`bad scheduler URL ${schedulerUrl}`);
  }
  const paymentAddress = last('paymentAddress');
  if (paymentAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(paymentAddress))
    throw new UsageError(`--paymentAddress must be an 0x address, not "${paymentAddress}"`);

  const wage = (last('minimumWage') ?? '0').split(',').map((v) => Number(v || 0));
  if (wage.some((w) => !Number.isFinite(w) || w < 0))
    throw new UsageError('--minimumWage takes non-negative numbers');

  let computeGroups: ComputeGroupCredentials[];
  try {
    computeGroups = (values.get('group') ?? []).map(parseComputeGroup);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  return {
    schedulerUrl,
    output,
    cores,
    utilization,
    maxSandboxes,
    evaluatorHost: last('hostname') ?? env.DCP_EMU_EVALUATOR_HOST ?? '127.0.0.1',
    evaluatorPort: port,
    startEvaluator: !bools.has('externalEvaluator'),
    paymentAddress,
    computeGroups,
    leavePublicGroup: bools.has('leavePublicGroup'),
    allowOrigins: all('origin'),
    strictOrigins: bools.has('strictOrigins') || /^(1|true)$/i.test(env.DCP_EMU_WORKER_STRICT_ORIGINS ?? ''),
    jobIds: all('job'),
    minimumWage: { CPU: wage[0] ?? 0, GPU: wage[1] ?? 0, in: wage[2] ?? 0, out: wage[3] ?? 0 },
    identityKey: last('identityKey'),
    identityFile: last('identityFile'),
    watchdogIntervalMs: last('watchdog') ? positive('-W', last('watchdog') ?? '', true) : undefined,
    cleanupTimeoutMs: last('cleanupTimeout')
      ? positive('--cleanupTimeout', last('cleanupTimeout') ?? '') * 1000
      : 60_000,
    dataDir: last('dataDir'),
    verbose: bools.get('verbose') ?? 0,
    help: bools.has('help'),
  };
}

/** Sandboxes working at once: -m, else cores × utilization (at least 1). */
export function sandboxCount(o: Pick<CliOptions, 'cores' | 'utilization' | 'maxSandboxes'>): number {
  const byCores = Math.max(1, Math.floor(o.cores * o.utilization));
  return o.maxSandboxes ? Math.min(o.maxSandboxes, byCores) : byCores;
}
