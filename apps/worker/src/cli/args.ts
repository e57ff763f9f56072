import { availableParallelism } from 'node:os';
import type { FileConfig } from '../config-file';
import { FACILITIES, type Facility, type SyslogFormat } from '../logging/syslog';
import { type ComputeGroupCredentials, type MinimumWage, parseComputeGroup } from '../supervisor';

export type OutputMode = 'console' | 'dashboard' | 'syslog' | 'logfile';

export interface SyslogSettings {
  address: string;
  port: number;
  facility: Facility;
  format: SyslogFormat;
}

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
  /** -o logfile: the file (dcp-worker's --logfile) */
  logfile: string;
  /** -o syslog: where and how (dcp-worker's --syslogAddress/--syslogPort/--syslogFacility, plus --syslogFormat) */
  syslog: SyslogSettings;
  /** -f, --pidFile */
  pidFile: string | undefined;
  /** --showConfig [node]: print the merged configuration (or the node at that dotted path) and exit */
  showConfig: string | undefined;
  /** --reportInterval s: a status report every s seconds (not with the dashboard) */
  reportIntervalS: number | undefined;
  /** --config FILE (else DCP_EMU_WORKER_CONFIG) */
  configFile: string | undefined;
  /**
   * --evaluator-manager: our evaluator behind an in-process evaluator manager (pauses work under load or
   * an active terminal); thresholds from the flags, else the config file's evaluatorManager node
   */
  evaluatorManager:
    | {
        maxLoad: number | undefined;
        loadavgType: 'short' | 'medium' | 'long';
        loadavgFile: string | undefined;
        idleTimeoutMs: number;
        pollMs: number;
        disabled: ('session' | 'load' | 'signal')[];
        killOnBusy: boolean;
        pts: string;
      }
    | undefined;
}

export class UsageError extends Error {}

export const usage = `Usage: dcp-emu-worker [options]

Our DCP worker: fetches slices from a dcp-emu scheduler and computes them in dcp-emu-evaluator sandboxes.

  --dcp-scheduler <url>       scheduler (env DCP_SCHEDULER_LOCATION, DCP_EMU_SCHEDULER_URL; default http://127.0.0.1:7430/)
  -o, --output <mode>         console | dashboard | syslog | logfile | detect (default: dashboard on a TTY, else console)
      --logfile <path>        -o logfile: the file, appended to; SIGHUP reopens it (default ./dcp-emu-worker.log)
      --syslogAddress <host>  -o syslog: syslog server (default loghost), UDP like dcp-worker
      --syslogPort <port>     -o syslog: its port (default 514)
      --syslogFacility <name> -o syslog: facility (default local7)
      --syslogFormat <fmt>    -o syslog: rfc5424 (default) or rfc3164
      --reportInterval <s>    print a status report every <s> seconds (console, logfile, syslog)
  -f, --pidFile <file>        write our pid there (refuse to start while the pid in it runs); removed on exit
      --config <file>         configuration file like dcp-worker's etc/dcp-worker-config.js (env DCP_EMU_WORKER_CONFIG);
                              also read: /etc/dcp/dcp-emu-worker/dcp-config.js, ~/.dcp/dcp-emu-worker/dcp-config.js.
                              Precedence: defaults < config files < environment < flags
      --showConfig [node]     print the merged configuration (or one node, e.g. worker.minimumWage) and exit
      --evaluator-manager     pause work while this machine is busy (as dcp-evaluator-manager, in front of our evaluator):
      --max-load <n>            busy above this 1-minute load average (default: load not watched)
      --idle-timeout <s>        busy while a terminal was used within <s> seconds (default 30)
      --loadavg-file <file>     read the load from a file in /proc/loadavg's format (default: the kernel's)
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
  '--logfile': 'logfile',
  '--syslogAddress': 'syslogAddress',
  '--syslogPort': 'syslogPort',
  '--syslogFacility': 'syslogFacility',
  '--syslogFormat': 'syslogFormat',
  '--syslogTransport': 'syslogTransport',
  '--reportInterval': 'reportInterval',
  '-f': 'pidFile',
  '--pidFile': 'pidFile',
  '--pid-file': 'pidFile',
  '--config': 'config',
  '--max-load': 'maxLoad',
  '--idle-timeout': 'idleTimeout',
  '--loadavg-file': 'loadavgFile',
};

/** flags whose value may be left out (then "") */
const optionalValueFlags: Record<string, string> = {
  '--showConfig': 'showConfig',
  '--show-config': 'showConfig',
};

const boolFlags: Record<string, string> = {
  '--leavePublicGroup': 'leavePublicGroup',
  '--leave-public-group': 'leavePublicGroup',
  '--external-evaluator': 'externalEvaluator',
  '--strict-origins': 'strictOrigins',
  '--evaluator-manager': 'evaluatorManager',
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

/** `--config FILE` from the command line, if given (read before the rest is resolved). */
export function configFlag(argv: readonly string[]): string | undefined {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--config') file = argv[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  return file;
}

/**
 * Parses dcp-emu-worker's command line (`--flag value`, `--flag=value`, repeatable -g/-a/-j) and
 * resolves every option: flags, else the environment, else the configuration file(s) `file`, else
 * the default.
 */
export function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
  file: FileConfig = {},
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
    const optional = optionalValueFlags[arg];
    if (optional) {
      const next = argv[i + 1];
      let v = inline ?? '';
      if (inline === undefined && next !== undefined && !next.startsWith('-')) {
        v = next;
        i++;
      }
      values.set(optional, [...(values.get(optional) ?? []), v]);
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
  const w = file.worker ?? {};
  const envList = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);
  const envFlag = (v: string | undefined) => (v === undefined ? undefined : /^(1|true|yes|on)$/i.test(v));

  const outputRaw = last('output') ?? env.DCP_EMU_WORKER_OUTPUT ?? w.output?.mode ?? 'detect';
  if (!['console', 'dashboard', 'detect', 'syslog', 'logfile'].includes(outputRaw))
    throw new UsageError(
      `-o must be console, dashboard, syslog, logfile or detect (dcp-worker's event-log is Windows-only)`,
    );
  const output: OutputMode =
    outputRaw === 'detect' ? (isTTY ? 'dashboard' : 'console') : (outputRaw as OutputMode);

  const pair = (text: string) => (text.split(',')[0] ?? '').trim();
  const coresFlag = last('cores');
  const cores = coresFlag ? positive('-c', pair(coresFlag), true) : (w.cores?.cpu ?? availableParallelism());
  if (!Number.isInteger(cores)) throw new UsageError(`worker.cores.cpu must be a whole number, not ${cores}`);
  const utilizationFlag = last('utilization');
  const utilization = utilizationFlag ? positive('-u', pair(utilizationFlag)) : (w.utilization?.cpu ?? 1);
  const maxSandboxesText = last('maxSandboxes') ?? env.DCP_EMU_WORKER_SANDBOXES;
  const maxSandboxes = maxSandboxesText ? positive('-m', maxSandboxesText, true) : w.maxSandboxes;

  const evaluatorFile = file.evaluator?.location ?? file.evaluator?.listen;
  const port = Number(
    last('port') ?? env.DCP_EMU_EVALUATOR_PORT ?? (evaluatorFile?.port || undefined) ?? 9000,
  );
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`bad evaluator port ${last('port')}`);

  const schedulerUrl =
    last('scheduler') ??
    env.DCP_SCHEDULER_LOCATION ??
    env.DCP_EMU_SCHEDULER_URL ??
    file.scheduler?.location?.href ??
    'http://127.0.0.1:7430/';
  try {
    new URL(schedulerUrl);
  } catch {
    throw new UsageError(`bad scheduler URL ${schedulerUrl}`);
  }
  const paymentAddress = last('paymentAddress') ?? env.DCP_EMU_WORKER_PAYMENT_ADDRESS ?? w.paymentAddress;
  if (paymentAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(paymentAddress))
    throw new UsageError(`--paymentAddress must be an 0x address, not "${paymentAddress}"`);

  const wageText = last('minimumWage') ?? env.DCP_EMU_WORKER_MINIMUM_WAGE;
  const fileWage = w.minimumWage ?? {};
  const wage = wageText
    ? wageText.split(',').map((v) => Number(v || 0))
    : [fileWage.CPU ?? 0, fileWage.GPU ?? 0, fileWage.in ?? 0, fileWage.out ?? 0];
  if (wage.some((x) => !Number.isFinite(x) || x < 0))
    throw new UsageError('--minimumWage takes non-negative numbers');

  let computeGroups: ComputeGroupCredentials[];
  try {
    const flagGroups = (values.get('group') ?? []).map(parseComputeGroup);
    const envGroups = (env.DCP_EMU_WORKER_COMPUTE_GROUPS ?? '')
      .split(';')
      .map((g) => g.trim())
      .filter(Boolean)
      .map(parseComputeGroup);
    // as dcp-worker: -g adds to the configured groups
    computeGroups = [...(envGroups.length > 0 ? envGroups : (w.computeGroups ?? [])), ...flagGroups];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const fileOrigins = Object.values(w.allowOrigins ?? {}).flatMap((list) => list ?? []);
  // as dcp-worker: -a adds to the configured origins
  const allowOrigins = [
    ...new Set([...fileOrigins, ...envList(env.DCP_EMU_WORKER_ALLOW_ORIGINS), ...all('origin')]),
  ];

  const cleanupText = last('cleanupTimeout');
  const syslogPort = Number(last('syslogPort') ?? w.output?.syslog?.port ?? 514);
  if (!Number.isInteger(syslogPort) || syslogPort < 1 || syslogPort > 65535)
    throw new UsageError(`--syslogPort must be a port number, not "${last('syslogPort')}"`);
  const facility = last('syslogFacility') ?? w.output?.syslog?.facility ?? 'local7';
  if (!(facility in FACILITIES))
    throw new UsageError(`--syslogFacility must be one of ${Object.keys(FACILITIES).join(', ')}`);
  const format = last('syslogFormat') ?? w.output?.syslog?.format ?? 'rfc5424';
  if (format !== 'rfc5424' && format !== 'rfc3164')
    throw new UsageError('--syslogFormat must be rfc5424 or rfc3164');
  const transport = last('syslogTransport') ?? 'udp';
  if (transport !== 'udp') throw new UsageError('--syslogTransport: only udp is supported');
  const reportText = last('reportInterval');
  const m = file.evaluatorManager ?? {};
  const managerWanted =
    bools.has('evaluatorManager') ||
    last('maxLoad') !== undefined ||
    last('loadavgFile') !== undefined ||
    last('idleTimeout') !== undefined;
  if (managerWanted && bools.has('externalEvaluator'))
    throw new UsageError(
      '--evaluator-manager guards the evaluator we start; with --external-evaluator run dcp-emu-evaluator-manager in front of it',
    );
  const maxLoadText = last('maxLoad');
  const idleText = last('idleTimeout');

  return {
    schedulerUrl,
    output,
    cores,
    utilization,
    maxSandboxes,
    evaluatorHost:
      last('hostname') ?? env.DCP_EMU_EVALUATOR_HOST ?? (evaluatorFile?.hostname || undefined) ?? '127.0.0.1',
    evaluatorPort: port,
    startEvaluator: !bools.has('externalEvaluator'),
    paymentAddress,
    computeGroups,
    leavePublicGroup:
      bools.has('leavePublicGroup') ||
      (envFlag(env.DCP_EMU_WORKER_LEAVE_PUBLIC_GROUP) ?? w.leavePublicGroup ?? false),
    allowOrigins,
    strictOrigins:
      bools.has('strictOrigins') || (envFlag(env.DCP_EMU_WORKER_STRICT_ORIGINS) ?? w.strictOrigins ?? false),
    jobIds: [...new Set([...(w.jobAddresses ?? []), ...envList(env.DCP_EMU_WORKER_JOBS), ...all('job')])],
    minimumWage: { CPU: wage[0] ?? 0, GPU: wage[1] ?? 0, in: wage[2] ?? 0, out: wage[3] ?? 0 },
    identityKey: last('identityKey'),
    identityFile: last('identityFile') ?? w.identityKeystore,
    watchdogIntervalMs: last('watchdog') ? positive('-W', last('watchdog') ?? '', true) : w.watchdogInterval,
    cleanupTimeoutMs:
      (cleanupText ? positive('--cleanupTimeout', cleanupText) : (w.cleanupTimeout ?? 60)) * 1000,
    dataDir: last('dataDir'),
    verbose: bools.get('verbose') ?? 0,
    help: bools.has('help'),
    logfile: last('logfile') ?? w.output?.logfile ?? 'dcp-emu-worker.log',
    syslog: {
      address: last('syslogAddress') ?? w.output?.syslog?.address ?? 'loghost',
      port: syslogPort,
      facility: facility as Facility,
      format,
    },
    pidFile: last('pidFile') ?? w.pidFile,
    showConfig: last('showConfig'),
    reportIntervalS: reportText ? positive('--reportInterval', reportText) : w.reportInterval,
    configFile: last('config'),
    evaluatorManager: managerWanted
      ? {
          maxLoad: maxLoadText ? positive('--max-load', maxLoadText) : m.maxLoad,
          loadavgType: m.loadavgType ?? 'short',
          loadavgFile: last('loadavgFile'),
          idleTimeoutMs: (idleText ? positive('--idle-timeout', idleText) : (m.idleTimeout ?? 30)) * 1000,
          pollMs: (m.idlePoll ?? 3) * 1000,
          disabled: m.disable ?? [],
          killOnBusy: m.killOnBusy ?? true,
          pts: m.pts ?? '/dev/pts',
        }
      : undefined,
  };
}

/** Sandboxes working at once: -m, else cores × utilization (at least 1). */
export function sandboxCount(o: Pick<CliOptions, 'cores' | 'utilization' | 'maxSandboxes'>): number {
  const byCores = Math.max(1, Math.floor(o.cores * o.utilization));
  return o.maxSandboxes ? Math.min(o.maxSandboxes, byCores) : byCores;
}
