/**
 * `up` and `exec` options: the stack's shape (ports, services, workers, evaluator, accounts, log
 * rotation). `serve` takes them too (serve-args.ts).
 */
import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type DataDirOf, int, parse, UsageError } from './args-common';
import { DEFAULT_LOG_ROTATION, type LogRotation, parseSize } from './log-rotate';
import type { ServiceName } from './stack';

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

export const UP_HELP = `usage: dcp-emu up [options]

Start scheduler, bank, portal and a worker, fund the dev accounts, print the URLs and the DCP
environment; Ctrl-C stops everything.

  --data-dir DIR        where state lives (default: $DCP_EMU_DATA_DIR or the user data dir)
  --database-url URL    file:<path> (one SQLite file for all) or postgresql://… (a schema per service)
  --host HOST           bind address (default 127.0.0.1)
  --port-base N         scheduler N, bank N+1, portal N+2, worker N+3, evaluator N+4 (default 7430)
  --workers N           worker sandboxes (default: the machine's parallelism); 0 = no worker
  --evaluator KIND      isolated-vm (default) or external (one already listening on the evaluator port)
  --accounts N          dev accounts to derive and fund (default 10)
  --fund DCC            each dev account's start balance (default 1000)
  --no-portal           do not start the portal
  --allow-origin URL    an origin work functions may fetch() (repeatable)
  --strict-origins      no loopback origins for jobs (other than --allow-origin ones)
  --no-build            do not build missing parts first
  --log-level LEVEL     fatal|error|warn|info|debug|trace (default info)

example:  dcp-emu up --workers 2 --no-portal
`;

export const EXEC_HELP = `usage: dcp-emu exec [up options] [--] <command> [args…]

A throw-away stack around one command: its own data dir (removed afterwards; --data-dir keeps one),
free ports (--port-base to choose), no portal unless --portal. The command runs with the DCP
environment; everything stops afterwards and exec exits with the command's code.

  takes every option of up (dcp-emu up --help), and --portal

example:  dcp-emu exec -- npm test
`;

export type UpCommand = { kind: 'up'; up: UpArgs };
export type ExecCommand = {
  kind: 'exec';
  up: UpArgs;
  ephemeral: boolean;
  freePorts: boolean;
  command: string;
  args: string[];
};

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
  dataDirOf: DataDirOf,
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

/** `dcp-emu exec …` arguments. */
export function parseExec(rest: string[], env: NodeJS.ProcessEnv, dataDirOf: DataDirOf): ExecCommand {
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

function logRotationOf(size: string | undefined, keep: string | undefined): LogRotation {
  const maxBytes = size === undefined ? DEFAULT_LOG_ROTATION.maxBytes : parseSize(size);
  if (maxBytes === undefined)
    throw new UsageError(`--log-max-size must be a size such as 10M, 512k or 1048576, got "${size}"`);
  return { maxBytes, keep: int(keep, '--log-keep', 0, 1000) ?? DEFAULT_LOG_ROTATION.keep };
}
