import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { defaultDataDir } from '@dcp-emu/service-kit';
import { FAULT_USAGE, type FaultCommand, FaultUsageError, parseFaultCommand } from './fault-args';
import { parseServe, SERVE_USAGE } from './serve-args';
import type { ServeArgs } from './serve-profile';
import { DEFAULT_LOG_ROTATION, type LogRotation, parseSize } from './log-rotate';
import type { ServiceName } from './stack';
import { parseTime, type TimeAction } from './time-args';

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
  worker init --scheduler URL [--user U] [--out DIR]
                           prepare this machine as a worker: keystores, config, reachability, systemd units
                           (dcp-emu worker init --help)
  time status|freeze|resume [--json]
  time advance DURATION    virtual time of the scheduler and bank: freeze it, move it forward (10m, 30s,
                           1h: leases and other timers due in the span fire at once), let it run again
  fault add KIND [options] inject a fault (crashWorker, dropResult, delayResult, corruptResult, delayTask,
                           refuseTask, bankDown, disconnectClient); fault list; fault clear [ID]
                           (dcp-emu fault --help)
  explain <jobId> [--json] why the job's slices are not being computed: the job's state and, for every
                           connected worker, the reason it gets nothing of this job
  replay <jobId> <slice> [--json] [--inspect]
                           run one slice again here, in the worker's sandbox: its console output, progress
                           and result, or its error with the work function's stack (--inspect: in Node's
                           debugger)

  dcp-emu <command> --help (or dcp-emu help <command>) shows a command's options and an example.

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

/** One help table per command: `dcp-emu <command> --help`, `dcp-emu help <command>`. */
export const HELP: Record<string, string> = {
  up: `usage: dcp-emu up [options]

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
`,
  exec: `usage: dcp-emu exec [up options] [--] <command> [args…]

A throw-away stack around one command: its own data dir (removed afterwards; --data-dir keeps one),
free ports (--port-base to choose), no portal unless --portal. The command runs with the DCP
environment; everything stops afterwards and exec exits with the command's code.

  takes every option of up (dcp-emu up --help), and --portal

example:  dcp-emu exec -- npm test
`,
  env: `usage: dcp-emu env [--data-dir DIR]

Print the export lines that point unmodified DCP programs at the running stack.

example:  eval "$(dcp-emu env)"
`,
  run: `usage: dcp-emu run [--data-dir DIR] <program.js> [args…]

Run a program with the running stack's DCP environment; exits with its code. Options go before the
program; everything after it is the program's.

example:  dcp-emu run node_modules/dcp-client/examples/nodejs/simple-job.js
`,
  status: `usage: dcp-emu status [--json] [--data-dir DIR]

Services up/down (restarts, last exit), the worker, slices held per worker, jobs by status and the
dev accounts' balances. Exits 1 when a service is down.

  --json                the same as JSON

example:  dcp-emu status --json
`,
  logs: `usage: dcp-emu logs [service] [-f] [-n N] [--json] [--data-dir DIR]

The services' logs (<data dir>/logs/<service>.log), readable: time, service, level, message and the
line's other fields as k=v. service is one of scheduler, bank, portal, worker (default: all).

  -f, --follow          keep printing new lines
  -n, --lines N         the last N lines of each log (default 50)
  --json                the raw JSON lines

example:  dcp-emu logs scheduler -f
`,
  reset: `usage: dcp-emu reset [--yes] [--data-dir DIR]

Back to the seeded state: no jobs, dev accounts at their start balances. On PostgreSQL it says which
databases it empties and asks first (on a terminal); --yes (-y) skips the question.

example:  dcp-emu reset
`,
  serve: `usage: dcp-emu serve [up options] [serve options]

The production profile of up, for a private compute group other machines join: the faucet is off, no
dev accounts, an admin token is required, every location in the served dcp-config follows --public-url.
${SERVE_USAGE}
example:  dcp-emu serve --database-url postgresql://dcp@db/dcp --host 0.0.0.0 --public-url http://10.0.0.5:7430/
`,
  backup: `usage: dcp-emu backup DIR [--data-dir DIR] [--database-url postgresql://…]

Copy the stack's state into DIR (online): each service's SQLite database — or, on PostgreSQL, a
pg_dump of the service schemas (--database-url or DCP_EMU_DATABASE_URL, else the running stack's) —
the scheduler's, bank's and worker's keystores and the admin token, with a manifest.

example:  dcp-emu backup /var/backups/dcp-emu/2026-12-07
`,
  restore: `usage: dcp-emu restore DIR [--data-dir DIR] [--database-url postgresql://…]

Bring a backup back (the stack must be stopped); the next up starts from it, same scheduler identity.
A PostgreSQL backup needs --database-url (or DCP_EMU_DATABASE_URL): its service schemas are replaced.

example:  dcp-emu restore /var/backups/dcp-emu/2026-12-07
`,
  snapshot: `usage: dcp-emu snapshot save NAME | snapshot restore NAME | snapshot list [--data-dir DIR]

Save the whole state of the running stack (<data dir>/snapshots/NAME/) and bring it back.

example:  dcp-emu snapshot save before-test && dcp-emu snapshot restore before-test
`,
  time: `usage: dcp-emu time status | time freeze | time advance DURATION | time resume [--json] [--data-dir DIR]

Virtual time of the running stack's scheduler and bank (their /admin/time routes, admin token): freeze
it, move it forward — the leases, ENOPROGRESS checks and other timers due in the span fire at once, in
order — and let it run again. Durations: 250ms, 30s, 10m, 1h30m.

  example: dcp-emu time freeze && dcp-emu time advance 10m && dcp-emu time resume
`,
  fault: FAULT_USAGE,
  worker: `usage: dcp-emu worker init --scheduler URL [--user U] [--out DIR] …

Prepare this machine as a worker of that scheduler (keystores, configs, a reachability report, systemd
units); \`dcp-emu worker init --help\` lists every option.

  example: sudo npx dcp-emu worker init --scheduler https://scheduler.example:7430/ --user dcp
`,
  explain: `usage: dcp-emu explain <jobId> [--json] [--data-dir DIR]

Why is my job idle? The job's state (status, slices left, escrow/funds) and, for every worker
connected to the scheduler, why it is not computing this job: not in the job's compute group,
requirements vs its capabilities, offer below its minimum wage, no funds (ENOFUNDS), origin refused,
sandboxes busy, or no workers at all.

  --json                the scheduler's answer as JSON

example:  dcp-emu explain 0x1234…abcd
`,
  replay: `usage: dcp-emu replay <jobId> <slice> [--json] [--inspect [--inspect-port N]] [--scheduler URL] [--data-dir DIR]

Run one slice of a job again, locally, in our worker's sandbox (the evaluator's isolate, prelude,
module loading and limits): the scheduler's replay bundle (GET /api/jobs/:id/slices/:n/replay) gives
the work function, the slice's datum, the arguments and the modules. Prints the console output and
progress reports (at most one per 0.1 s, as the worker gets them) as they come, then the result —
compared with the result the worker produced — or the error: name, message and stack, with the
work function's line (line 1 is the line the function starts on). Exit code 0 when the slice
completes, 1 when it throws (or cannot be replayed), 2 on usage errors.

  --json                one JSON object at the end: result or error, console lines, progress
                        reports, elapsed ms and what the stack recorded for the slice
  --inspect             run it under Node's inspector (node --inspect-brk) and wait for a debugger
                        (chrome://inspect, VS Code "attach"); the work function is the script
                        dcp-job-<jobId>/work-function.js; the replayer stops once it is loaded: set
                        breakpoints, resume. No isolate limits in this mode (a plain vm context)
  --inspect-port N      the inspector's port (default 9229; 0 = any free one)
  --scheduler URL       ask this scheduler instead of the running stack's (admin token of the
                        data dir, if any)

example:  dcp-emu replay 0x1234…abcd 3
          console.log: squaring 3
          progress: 100%
          result: 9
          (same result as the worker produced)
          (1 progress report, 182 ms)
`,
};

export type Command =
  | { kind: 'help'; exitCode: number; command?: string }
  | { kind: 'up'; up: UpArgs }
  | { kind: 'serve'; up: UpArgs; serve: ServeArgs }
  | { kind: 'exec'; up: UpArgs; ephemeral: boolean; freePorts: boolean; command: string; args: string[] }
  | { kind: 'env'; dataDir: string }
  | { kind: 'run'; dataDir: string; program: string; args: string[] }
  | { kind: 'status'; dataDir: string; json: boolean }
  | {
      kind: 'logs';
      dataDir: string;
      service: string | undefined;
      follow: boolean;
      lines: number;
      json: boolean;
    }
  | { kind: 'explain'; dataDir: string; jobId: string; json: boolean }
  | {
      kind: 'replay';
      dataDir: string;
      jobId: string;
      slice: number;
      json: boolean;
      inspect: boolean;
      inspectPort: number;
      scheduler: string | undefined;
    }
  | { kind: 'reset'; dataDir: string; yes: boolean }
  | { kind: 'backup' | 'restore'; dataDir: string; path: string; databaseUrl?: string }
  | { kind: 'snapshot'; dataDir: string; action: 'save' | 'restore'; name: string }
  | { kind: 'snapshot'; dataDir: string; action: 'list' }
  | { kind: 'worker'; argv: string[] }
  | { kind: 'time'; dataDir: string; action: TimeAction; by?: string; json: boolean }
  | FaultCommand;

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

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';

/**
 * Does `rest` ask for a command's help? Only among the command's own options: not after `--`, and
 * for `run`/`exec` not among the program's arguments.
 */
function asksHelp(command: string, rest: string[]): boolean {
  if (command === 'run') {
    for (const a of rest) {
      if (isHelp(a)) return true;
      if (!a.startsWith('--')) return false;
    }
    return false;
  }
  if (command === 'exec') {
    const { tokens } = parseArgs({
      args: rest,
      options: { ...UP_OPTIONS, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      allowNegative: true,
      strict: false,
      tokens: true,
    });
    for (const t of tokens) {
      if (t.kind !== 'option') return false;
      if (t.name === 'help') return true;
    }
    return false;
  }
  const end = rest.indexOf('--');
  return (end < 0 ? rest : rest.slice(0, end)).some(isHelp);
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
  // (`worker init --help` prints worker init's own option list)
  if (command !== undefined && command !== 'worker' && HELP[command] && asksHelp(command, rest))
    return { kind: 'help', exitCode: 0, command };
  switch (command) {
    case undefined:
      return { kind: 'help', exitCode: 2 };
    case 'help':
    case '--help':
    case '-h': {
      const [about] = rest;
      if (about !== undefined && !HELP[about]) throw new UsageError(`no command "${about}"`);
      return { kind: 'help', exitCode: 0, ...(about !== undefined ? { command: about } : {}) };
    }
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
      const { values, positionals } = parse(
        rest,
        { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } },
        true,
      );
      const [path, extra] = positionals;
      if (!path || extra !== undefined)
        throw new UsageError(`usage: dcp-emu ${command} DIR [--data-dir DIR] [--database-url URL]`);
      const databaseUrl = (values['database-url'] as string | undefined) ?? env.DCP_EMU_DATABASE_URL;
      return {
        kind: command,
        dataDir: dataDirOf(values['data-dir']),
        path,
        ...(databaseUrl ? { databaseUrl } : {}),
      };
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
          json: { type: 'boolean', default: false },
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
        json: values.json as boolean,
      };
    }
    case 'explain': {
      const { values, positionals } = parse(
        rest,
        { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } },
        true,
      );
      const [jobId, extra] = positionals;
      if (!jobId || extra !== undefined) throw new UsageError('usage: dcp-emu explain <jobId> [--json]');
      return { kind: 'explain', dataDir: dataDirOf(values['data-dir']), jobId, json: values.json as boolean };
    }
    case 'replay': {
      const { values, positionals } = parse(
        rest,
        {
          'data-dir': { type: 'string' },
          json: { type: 'boolean', default: false },
          inspect: { type: 'boolean', default: false },
          'inspect-port': { type: 'string' },
          scheduler: { type: 'string' },
        },
        true,
      );
      const [jobId, sliceText, extra] = positionals;
      if (!jobId || sliceText === undefined || extra !== undefined)
        throw new UsageError('usage: dcp-emu replay <jobId> <slice> [--json] [--inspect]');
      const slice = Number(sliceText);
      if (!/^\d+$/.test(sliceText) || !Number.isSafeInteger(slice) || slice < 1)
        throw new UsageError(`the slice number is a whole number from 1 on, got "${sliceText}"`);
      const inspectPort = int(values['inspect-port'] as string | undefined, '--inspect-port', 0, 65535);
      if (inspectPort !== undefined && !values.inspect)
        throw new UsageError('--inspect-port goes with --inspect');
      const scheduler = values.scheduler as string | undefined;
      if (scheduler !== undefined && !/^https?:\/\/[^/]/.test(scheduler))
        throw new UsageError(`--scheduler needs an http(s) URL, got "${scheduler}"`);
      return {
        kind: 'replay',
        dataDir: dataDirOf(values['data-dir']),
        jobId,
        slice,
        json: values.json as boolean,
        inspect: values.inspect as boolean,
        inspectPort: inspectPort ?? 9229,
        scheduler,
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
    case 'worker':
      // `worker init …` parses its own options (worker-init.ts)
      return { kind: 'worker', argv: rest };
    case 'time':
      return parseTime(rest, dataDirOf);
    case 'fault':
      try {
        return parseFaultCommand(rest, dataDirOf);
      } catch (e) {
        if (e instanceof FaultUsageError) throw new UsageError(`${e.message} (dcp-emu fault --help)`);
        throw e;
      }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
