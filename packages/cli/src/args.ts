/**
 * `dcp-emu …` arguments → a Command: the overall usage, the help table and the dispatch. Each
 * command's options, help text and parser live in its own module (up-args, run-args, inspect-args,
 * state-args, serve-args, time-args, fault-args); this file only puts them together.
 */
import { parseArgs } from 'node:util';
import { defaultDataDir } from '@dcp-emu/service-kit';
import { UsageError } from './args-common';
import { FAULT_USAGE, type FaultCommand, FaultUsageError, parseFaultCommand } from './fault-args';
import {
  EXPLAIN_HELP,
  type ExplainCommand,
  LOGS_HELP,
  type LogsCommand,
  parseExplain,
  parseLogs,
  parseStatus,
  STATUS_HELP,
  type StatusCommand,
} from './inspect-args';
import { parseReplay, REPLAY_HELP, type ReplayCommand } from './replay-args';
import { ENV_HELP, type EnvCommand, parseEnv, parseRun, RUN_HELP, type RunCommand } from './run-args';
import { parseServe, SERVE_USAGE } from './serve-args';
import type { ServeArgs } from './serve-profile';
import {
  BACKUP_HELP,
  type BackupCommand,
  parseBackup,
  parseReset,
  parseSnapshot,
  RESET_HELP,
  type ResetCommand,
  RESTORE_HELP,
  SNAPSHOT_HELP,
  type SnapshotCommand,
} from './state-args';
import { parseTime, type TimeAction } from './time-args';
import {
  EXEC_HELP,
  type ExecCommand,
  parseExec,
  parseUp,
  UP_HELP,
  UP_OPTIONS,
  type UpArgs,
  type UpCommand,
} from './up-args';

export { UsageError } from './args-common';
export { parseUp, UP_OPTIONS, type UpArgs } from './up-args';

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

/** One help table per command: `dcp-emu <command> --help`, `dcp-emu help <command>`. */
export const HELP: Record<string, string> = {
  up: UP_HELP,
  exec: EXEC_HELP,
  env: ENV_HELP,
  run: RUN_HELP,
  status: STATUS_HELP,
  logs: LOGS_HELP,
  reset: RESET_HELP,
  serve: `usage: dcp-emu serve [up options] [serve options]

The production profile of up, for a private compute group other machines join: the faucet is off, no
dev accounts, an admin token is required, every location in the served dcp-config follows --public-url.
${SERVE_USAGE}
example:  dcp-emu serve --database-url postgresql://dcp@db/dcp --host 0.0.0.0 --public-url http://10.0.0.5:7430/
`,
  backup: BACKUP_HELP,
  restore: RESTORE_HELP,
  snapshot: SNAPSHOT_HELP,
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
  explain: EXPLAIN_HELP,
  replay: REPLAY_HELP,
};

export type Command =
  | { kind: 'help'; exitCode: number; command?: string }
  | UpCommand
  | { kind: 'serve'; up: UpArgs; serve: ServeArgs }
  | ExecCommand
  | EnvCommand
  | RunCommand
  | StatusCommand
  | LogsCommand
  | ExplainCommand
  | ReplayCommand
  | ResetCommand
  | BackupCommand
  | SnapshotCommand
  | { kind: 'worker'; argv: string[] }
  | { kind: 'time'; dataDir: string; action: TimeAction; by?: string; json: boolean }
  | FaultCommand;

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
    case 'exec':
      return parseExec(rest, env, dataDirOf);
    case 'up':
      return { kind: 'up', up: parseUp(rest, env, dataDirOf, { portal: true }) };
    case 'serve':
      return { kind: 'serve', ...parseServe(rest, env, dataDirOf) };
    case 'run':
      return parseRun(rest, dataDirOf);
    case 'env':
      return parseEnv(rest, dataDirOf);
    case 'reset':
      return parseReset(rest, dataDirOf);
    case 'backup':
    case 'restore':
      return parseBackup(command, rest, env, dataDirOf);
    case 'status':
      return parseStatus(rest, dataDirOf);
    case 'logs':
      return parseLogs(rest, dataDirOf);
    case 'explain':
      return parseExplain(rest, dataDirOf);
    case 'replay':
      return parseReplay(rest, dataDirOf);
    case 'snapshot':
      return parseSnapshot(rest, dataDirOf);
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
