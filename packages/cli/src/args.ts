import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { defaultDataDir } from '@dcp-emu/service-kit';
import { parseServe, SERVE_USAGE } from './serve-args';
import type { ServeArgs } from './serve-profile';
import { DEFAULT_LOG_ROTATION, type LogRotation, parseSize } from './log-rotate';
import type { ServiceName } from './stack';

export const USAGE = `usage: dcp-emu <command> [options]

commands:
  up                       start scheduler, bank, portal and a worker; fund the dev accounts; print the
                           URLs and the DCP environment; Ctrl-C stops everything
  serve [up options] --public-url URL
                           the production profile of up for a private compute group (see below)
  exec [up options] [--] <command> [args]
                           start a throw-away stack (own data dir, free ports, no portal unless --portal),
                           run the command with the DCP environment, stop everything, exit with its code
  env                      print the export lines that point unmodified DCP programs at the running stack
  run <program.js> [args]  run an unmodified dcp-client program against the running stack
  status [--json]          services, workers, jobs and dev account balances
  logs [service] [-f] [-n N]
                           print (-f: follow) a service's log (scheduler, bank, portal, worker); all by default
  reset [--yes]            back to the seeded state (no jobs, dev accounts at their start balances);
                           on PostgreSQL it says what it deletes and asks first (--yes: do not ask)
  backup DIR               copy the databases (SQLite, online) and the keystores into a new directory
  restore DIR              put a backup back into the data dir (stack stopped)
  snapshot save NAME       save the stack's state
  snapshot restore NAME    bring a saved state back
  snapshot list            list saved states

options for every command:
  --data-dir DIR        where state lives (default: $DCP_EMU_DATA_DIR or the user data dir)

options for up:
  --database-url URL    default: a SQLite file per service in the data dir; postgresql://…: one schema per
                        service on that database; file:<path>: one SQLite file for all services
  --host HOST           bind address (default 127.0.0.1)
  --port-base N         scheduler N, bank N+1, portal N+2, worker N+3, its evaluator N+4 (default 7430)
  --workers N           sandboxes of the worker (default: the machine's parallelism); 0 = no worker
  --evaluator KIND      isolated-vm (default: the worker starts its own) or external (one already listening
                        on the evaluator port, e.g. dcp-evaluator-start)
  --accounts N          dev accounts to derive and fund (default 10)
  --fund DCC            each dev account's start balance (default 1000)
  --no-portal           do not start the portal
  --allow-origin URL    an origin work functions may fetch() and job data may come from (repeatable);
                        the stack's own services are never reachable from a work function
  --strict-origins      deny by default: no loopback origins (other than --allow-origin ones) for jobs
  --no-build            do not build missing parts first
  --log-level LEVEL     fatal|error|warn|info|debug|trace (default info)
  --log-max-size SIZE   rotate each service's log at this size, e.g. 10M (default 50M, $DCP_EMU_LOG_MAX_BYTES;
                        0 = never): <data dir>/logs/NAME.log → NAME.log.1 …
  --log-keep N          rotated files kept per service (default 5, $DCP_EMU_LOG_KEEP)
${SERVE_USAGE}`;

export class UsageError extends Error {}

export interface UpArgs {
  dataDir: string;
  host: string;
  databaseUrl: string | undefined;
  ports: Record<ServiceName | 'evaluator', number>;
  services: ServiceName[];
  workers: number;
  evaluator: 'isolated-vm' | 'external';
  accounts: number;
  fund: string;
  build: boolean;
  logLevel: string;
  /** `--allow-origin` (repeatable) */
  allowOrigins: string[];
  /** `--strict-origins` */
  strictOrigins: boolean;
  /** `--log-max-size`, `--log-keep` */
  logRotation: LogRotation;
}

export type Command =
  | { kind: 'help'; exitCode: number }
  | { kind: 'up'; up: UpArgs }
  | { kind: 'serve'; up: UpArgs; serve: ServeArgs }
  | { kind: 'exec'; up: UpArgs; ephemeral: boolean; freePorts: boolean; command: string; args: string[] }
  | { kind: 'env'; dataDir: string }
  | { kind: 'run'; dataDir: string; program: string; args: string[] }
  | { kind: 'status'; dataDir: string; json: boolean }
  | { kind: 'logs'; dataDir: string; service: string | undefined; follow: boolean; lines: number }
  | { kind: 'reset'; dataDir: string; yes: boolean }
  | { kind: 'backup' | 'restore'; dataDir: string; path: string }
  | { kind: 'snapshot'; dataDir: string; action: 'save' | 'restore'; name: string }
  | { kind: 'snapshot'; dataDir: string; action: 'list' };

const SERVICES = ['scheduler', 'bank', 'portal', 'worker'] as const;
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function int(value: string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, allowNegative: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `up`'s options (also taken by `exec`). */
export const UP_OPTIONS = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  host: { type: 'string' },
  'port-base': { type: 'string' },
  workers: { type: 'string' },
  evaluator: { type: 'string' },
  accounts: { type: 'string' },
  fund: { type: 'string' },
  portal: { type: 'boolean' },
  worker: { type: 'boolean', default: true },
  build: { type: 'boolean', default: true },
  'log-level': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'strict-origins': { type: 'boolean', default: false },
  'log-max-size': { type: 'string' },
  'log-keep': { type: 'string' },
} satisfies NonNullable<ParseArgsConfig['options']>;

export function parseUp(
  rest: string[],
  env: NodeJS.ProcessEnv,
  dataDirOf: (v: unknown) => string,
  defaults: { portal: boolean },
): UpArgs {
  const { values } = parse(rest, UP_OPTIONS);
  const portal = (values.portal as boolean | undefined) ?? defaults.portal;
  const str = (k: string) => values[k] as string | undefined;
  const base = int(str('port-base') ?? env.DCP_EMU_PORT_BASE, '--port-base', 1, 65531) ?? 7430;
  const workers =
    int(str('workers') ?? env.DCP_EMU_WORKERS, '--workers', 0, 1024) ?? Math.max(1, availableParallelism());
  const evaluator = str('evaluator') ?? 'isolated-vm';
  if (evaluator !== 'isolated-vm' && evaluator !== 'external')
    throw new UsageError(`--evaluator must be isolated-vm or external, got "${evaluator}"`);
  const fund = str('fund') ?? '1000';
  if (!/^\d+(\.\d{1,9})?$/.test(fund) || Number(fund) <= 0)
    throw new UsageError(`--fund must be a positive DCC amount (at most 9 decimals), got "${fund}"`);
  const services: ServiceName[] = ['scheduler', 'bank'];
  if (portal) services.push('portal');
  if (values.worker && workers > 0) services.push('worker');
  const allowOrigins = ((values['allow-origin'] as string[] | undefined) ?? []).map((o) => {
    try {
      const u = new URL(o);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      return u.origin;
    } catch {
      throw new UsageError(
        `--allow-origin needs an http(s) origin such as http://localhost:8080, got "${o}"`,
      );
    }
  });
  return {
    dataDir: dataDirOf(values['data-dir']),
    host: str('host') ?? env.DCP_EMU_HOST ?? '127.0.0.1',
    databaseUrl: str('database-url') ?? env.DCP_EMU_DATABASE_URL,
    ports: { scheduler: base, bank: base + 1, portal: base + 2, worker: base + 3, evaluator: base + 4 },
    services,
    workers,
    evaluator,
    accounts: int(str('accounts'), '--accounts', 1, 1000) ?? 10,
    fund,
    build: values.build as boolean,
    logLevel: str('log-level') ?? env.DCP_EMU_LOG_LEVEL ?? 'info',
    allowOrigins,
    strictOrigins: values['strict-origins'] as boolean,
    logRotation: logRotationOf(
      str('log-max-size') ?? env.DCP_EMU_LOG_MAX_BYTES,
      str('log-keep') ?? env.DCP_EMU_LOG_KEEP,
    ),
  };
}

function logRotationOf(size: string | undefined, keep: string | undefined): LogRotation {
  const maxBytes = size === undefined ? DEFAULT_LOG_ROTATION.maxBytes : parseSize(size);
  if (maxBytes === undefined)
    throw new UsageError(`--log-max-size must be a size such as 10M, 512k or 1048576, got "${size}"`);
  return { maxBytes, keep: int(keep, '--log-keep', 0, 1000) ?? DEFAULT_LOG_ROTATION.keep };
}

/** `dcp-emu …` arguments → a command. Throws UsageError with a message for the user. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const [command, ...rest] = argv;
  const dataDirOf = (v: unknown) => (typeof v === 'string' ? v : defaultDataDir(env));
  switch (command) {
    case undefined:
      return { kind: 'help', exitCode: 2 };
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help', exitCode: 0 };
    case 'exec': {
      // options of `up` first (`--` may end them), then the command and its own arguments
      const { tokens } = parseArgs({
        args: rest,
        options: UP_OPTIONS,
        allowPositionals: true,
        allowNegative: true,
        strict: false,
        tokens: true,
      });
      const start = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
      const at = start ? start.index : rest.length;
      const commandAt = start?.kind === 'option-terminator' ? at + 1 : at;
      const [cmd, ...cmdArgs] = rest.slice(commandAt);
      if (!cmd) throw new UsageError('exec needs a command to run, e.g. dcp-emu exec -- npm test');
      const options = rest.slice(0, at);
      const explicit = (flag: string) => options.some((o) => o === flag || o.startsWith(`${flag}=`));
      const parsed = parseUp(options, env, dataDirOf, { portal: false });
      return {
        kind: 'exec',
        up: parsed,
        ephemeral: !explicit('--data-dir'),
        freePorts: !explicit('--port-base') && env.DCP_EMU_PORT_BASE === undefined,
        command: cmd,
        args: cmdArgs,
      };
    }
    case 'up':
      return { kind: 'up', up: parseUp(rest, env, dataDirOf, { portal: true }) };
    case 'serve':
      return { kind: 'serve', ...parseServe(rest, env, dataDirOf) };
    case 'run': {
      // options only before the program; everything after it belongs to the program
      let i = 0;
      let dataDir: string | undefined;
      while (rest[i]?.startsWith('--')) {
        const flag = rest[i] as string;
        if (flag === '--data-dir') {
          dataDir = rest[i + 1];
          if (dataDir === undefined) throw new UsageError('--data-dir needs a directory');
          i += 2;
        } else if (flag.startsWith('--data-dir=')) {
          dataDir = flag.slice('--data-dir='.length);
          i += 1;
        } else throw new UsageError(`unknown option ${flag} for run (options go before the program)`);
      }
      const program = rest[i];
      if (!program) throw new UsageError('run needs a program: dcp-emu run <program.js> [args…]');
      return { kind: 'run', dataDir: dataDirOf(dataDir), program, args: rest.slice(i + 1) };
    }
    case 'env': {
      const { values } = parse(rest, { 'data-dir': { type: 'string' } });
      return { kind: command, dataDir: dataDirOf(values['data-dir']) };
    }
    case 'reset': {
      const { values } = parse(rest, {
        'data-dir': { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
      });
      return { kind: 'reset', dataDir: dataDirOf(values['data-dir']), yes: values.yes as boolean };
    }
    case 'backup':
    case 'restore': {
      const { values, positionals } = parse(rest, { 'data-dir': { type: 'string' } }, true);
      const [path, extra] = positionals;
      if (!path || extra !== undefined)
        throw new UsageError(`usage: dcp-emu ${command} DIR [--data-dir DIR]`);
      return { kind: command, dataDir: dataDirOf(values['data-dir']), path };
    }
    case 'status': {
      const { values } = parse(rest, {
        'data-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
      });
      return { kind: 'status', dataDir: dataDirOf(values['data-dir']), json: values.json as boolean };
    }
    case 'logs': {
      const { values, positionals } = parse(
        rest,
        {
          'data-dir': { type: 'string' },
          follow: { type: 'boolean', short: 'f', default: false },
          lines: { type: 'string', short: 'n' },
        },
        true,
      );
      const [service, extra] = positionals;
      if (extra !== undefined) throw new UsageError('logs takes at most one service');
      if (service !== undefined && !(SERVICES as readonly string[]).includes(service))
        throw new UsageError(`unknown service "${service}" (one of ${SERVICES.join(', ')})`);
      return {
        kind: 'logs',
        dataDir: dataDirOf(values['data-dir']),
        service,
        follow: values.follow as boolean,
        lines: int(values.lines as string | undefined, '--lines', 0, 1_000_000) ?? 50,
      };
    }
    case 'snapshot': {
      const { values, positionals } = parse(rest, { 'data-dir': { type: 'string' } }, true);
      const [action, name, extra] = positionals;
      const dataDir = dataDirOf(values['data-dir']);
      if (action === 'list' && name === undefined) return { kind: 'snapshot', dataDir, action };
      if ((action === 'save' || action === 'restore') && name !== undefined && extra === undefined) {
        if (!SNAPSHOT_NAME.test(name))
          throw new UsageError(`snapshot names are letters, digits, ".", "_" and "-" (got "${name}")`);
        return { kind: 'snapshot', dataDir, action, name };
      }
      throw new UsageError('usage: dcp-emu snapshot save NAME | snapshot restore NAME | snapshot list');
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
