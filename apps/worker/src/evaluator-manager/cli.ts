import { parseArgs } from 'node:util';
import { ConfigFileError, type FileConfig, loadConfigFiles } from '../config-file';
import { PidFileError, writePidFile } from '../logging/pidfile';
import {
  ActivityMonitor,
  fileLoad,
  type LoadavgType,
  type Monitor,
  ptsSessions,
  systemLoad,
} from './activity';
import { EvaluatorManager, type EvaluatorManagerOptions } from './manager';

export const usage = `Usage: dcp-emu-evaluator-manager [options]

Guards a dcp-emu-evaluator like dcp-worker's dcp-evaluator-manager: listens where workers connect
(one connection = one sandbox) and hands each connection to the evaluator, unless this machine is busy:
a terminal in use, the load average above --max-load, or paused by the toggle signal. When it becomes
busy, running sandboxes are closed (their slices go back to the scheduler) and new ones are refused;
the workers carry on once it is idle again.

  -p, --port <n>              port workers connect to (default 9000)
      --host <addr>           listen address (default 127.0.0.1)
  -e, --evaluator <host:port> the evaluator to hand connections to (default 127.0.0.1:9001)
  -l, --max-load <n>          busy above this load average (default: load not watched)
  -T, --loadavg-type <t>      short | medium | long: the 1, 5 or 15 minute average (default short)
      --loadavg-file <file>   read the load averages from a file in /proc/loadavg's format (default: the kernel's)
  -i, --idle-timeout <s>      a terminal used within this many seconds is in use (default 30)
      --poll <s>              seconds between checks (default 3)
  -r, --rate <s>              at most one new sandbox per this many seconds (default 0)
  -d, --disable-monitor <m>   session | load | signal; repeatable
  -a, --always                never busy (all monitors off)
      --pts <dir>             where the terminals are (default /dev/pts)
  -s, --signal <name>         the toggle signal (default SIGPWR): busy until sent again
      --keep-running          refuse new sandboxes when busy, but let running ones finish
  -f, --pidfile <file>        write our pid there (removed on exit)
      --config <file>         dcp-emu-worker's config file; its evaluatorManager node sets these defaults
  -h, --help                  this text`;

export interface ManagerCliOptions extends EvaluatorManagerOptions {
  maxLoad: number | undefined;
  loadavgType: LoadavgType;
  loadavgFile: string | undefined;
  idleTimeoutMs: number;
  disabled: Set<Monitor>;
  pts: string;
  signal: NodeJS.Signals;
  pidFile: string | undefined;
  help: boolean;
}

export class ManagerUsageError extends Error {}

function num(name: string, v: string | number | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new ManagerUsageError(`${name} must be a number ≥ ${min}, not "${v}"`);
  return n;
}

/** Flags over the config file's `evaluatorManager` node over the defaults. */
export function parseManagerArgs(argv: string[], file: FileConfig = {}): ManagerCliOptions {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        evaluator: { type: 'string', short: 'e' },
        'max-load': { type: 'string', short: 'l' },
        'loadavg-type': { type: 'string', short: 'T' },
        'loadavg-file': { type: 'string' },
        'idle-timeout': { type: 'string', short: 'i' },
        poll: { type: 'string' },
        rate: { type: 'string', short: 'r' },
        'disable-monitor': { type: 'string', short: 'd', multiple: true },
        always: { type: 'boolean', short: 'a' },
        pts: { type: 'string' },
        signal: { type: 'string', short: 's' },
        'keep-running': { type: 'boolean' },
        pidfile: { type: 'string', short: 'f' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new ManagerUsageError((e as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const m = file.evaluatorManager ?? {};
  const port = num('--port', s('port') ?? m.listen ?? 9000) as number;
  if (!Number.isInteger(port) || port > 65535) throw new ManagerUsageError(`bad --port ${port}`);
  const target = s('evaluator') ?? m.evaluator ?? '127.0.0.1:9001';
  const at = target.lastIndexOf(':');
  const evaluatorPort = Number(target.slice(at + 1));
  if (at < 1 || !Number.isInteger(evaluatorPort) || evaluatorPort < 1 || evaluatorPort > 65535)
    throw new ManagerUsageError(`--evaluator must be host:port, not "${target}"`);
  const loadavgType = (s('loadavg-type') ?? m.loadavgType ?? 'short') as LoadavgType;
  if (!['short', 'medium', 'long'].includes(loadavgType))
    throw new ManagerUsageError('--loadavg-type must be short, medium or long');
  const disabled = new Set<Monitor>(m.disable ?? []);
  for (const d of (values['disable-monitor'] as string[] | undefined) ?? []) {
    if (d !== 'session' && d !== 'load' && d !== 'signal')
      throw new ManagerUsageError(`--disable-monitor takes session, load or signal, not "${d}"`);
    disabled.add(d);
  }
  if (values.always) for (const d of ['session', 'load', 'signal'] as const) disabled.add(d);
  let signal = (s('signal') ?? 'SIGPWR').toUpperCase();
  if (!signal.startsWith('SIG')) signal = `SIG${signal}`;
  if (!['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGTSTP'].includes(signal))
    throw new ManagerUsageError('--signal must be one of SIGHUP, SIGUSR1, SIGUSR2, SIGPWR, SIGTSTP');
  return {
    listenHost: s('host') ?? '127.0.0.1',
    listenPort: port,
    evaluatorHost: target.slice(0, at).replace(/^\[|\]$/g, ''),
    evaluatorPort,
    pollMs: (num('--poll', s('poll') ?? m.idlePoll ?? 3) as number) * 1000,
    rateMs: (num('--rate', s('rate') ?? m.rate ?? 0) as number) * 1000,
    killOnBusy: values['keep-running'] ? false : (m.killOnBusy ?? true),
    maxLoad: num('--max-load', s('max-load') ?? m.maxLoad),
    loadavgType,
    loadavgFile: s('loadavg-file'),
    idleTimeoutMs: (num('--idle-timeout', s('idle-timeout') ?? m.idleTimeout ?? 30) as number) * 1000,
    disabled,
    pts: s('pts') ?? m.pts ?? '/dev/pts',
    signal: signal as NodeJS.Signals,
    pidFile: s('pidfile'),
    help: values.help === true,
  };
}

function configFlag(argv: string[]): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--config='))?.slice('--config='.length);
}

/** `dcp-emu-evaluator-manager`. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let o: ManagerCliOptions;
  try {
    o = parseManagerArgs(argv, loadConfigFiles(configFlag(argv)).config);
  } catch (e) {
    if (e instanceof ManagerUsageError || e instanceof ConfigFileError) {
      process.stderr.write(`dcp-emu-evaluator-manager: ${e.message}\n\n${usage}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (o.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (o.pidFile) {
    try {
      const remove = writePidFile(o.pidFile);
      process.on('exit', remove);
    } catch (e) {
      if (e instanceof PidFileError) {
        process.stderr.write(`dcp-emu-evaluator-manager: ${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
  }
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const monitor = new ActivityMonitor(
    {
      maxLoad: o.maxLoad,
      loadavgType: o.loadavgType,
      idleTimeoutMs: o.idleTimeoutMs,
      disabled: o.disabled,
    },
    {
      load: o.loadavgFile ? fileLoad(o.loadavgFile) : systemLoad,
      sessions: ptsSessions(o.pts),
      now: Date.now,
    },
  );
  const manager = new EvaluatorManager(o, monitor);
  manager.on('busy', (reason) =>
    log(`busy (${reason}): refusing sandboxes${o.killOnBusy ? ', closing running ones' : ''}`),
  );
  manager.on('idle', () => log('idle: accepting sandboxes'));
  let refusals = 0;
  manager.on('refused', (reason) => {
    // one line per burst, not one per retry
    if (refusals++ % 50 === 0) log(`refused a sandbox: ${reason}`);
  });
  manager.on('accepted', () => {
    refusals = 0;
  });
  if (!o.disabled.has('signal'))
    process.on(o.signal, () => {
      log(`${o.signal}: ${monitor.toggle() ? 'paused' : 'resumed'}`);
      manager.update();
    });
  await manager.start();
  const watching = [
    !o.disabled.has('session') && `terminals in ${o.pts} (idle after ${o.idleTimeoutMs / 1000} s)`,
    !o.disabled.has('load') && o.maxLoad !== undefined && `${o.loadavgType} load > ${o.maxLoad}`,
    !o.disabled.has('signal') && `${o.signal} toggles`,
  ].filter(Boolean);
  log(
    `listening on ${o.listenHost}:${manager.port} for the evaluator at ${o.evaluatorHost}:${o.evaluatorPort}; ` +
      `watching: ${watching.join('; ') || 'nothing (always on)'}`,
  );
  log(manager.busy ? `busy (${manager.busy})` : 'idle: accepting sandboxes');
  const stop = () => {
    void manager.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
