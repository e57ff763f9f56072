/** `status`, `logs` and `explain`: looking at the running stack. */
import { type DataDirOf, int, parse, UsageError } from './args-common';

export const STATUS_HELP = `usage: dcp-emu status [--json] [--data-dir DIR]

Services up/down (restarts, last exit), the worker, slices held per worker, jobs by status and the
dev accounts' balances. Exits 1 when a service is down.

  --json                the same as JSON

example:  dcp-emu status --json
`;

export const LOGS_HELP = `usage: dcp-emu logs [service] [-f] [-n N] [--json] [--data-dir DIR]

The services' logs (<data dir>/logs/<service>.log), readable: time, service, level, message and the
line's other fields as k=v. service is one of scheduler, bank, portal, worker (default: all).

  -f, --follow          keep printing new lines
  -n, --lines N         the last N lines of each log (default 50)
  --json                the raw JSON lines

example:  dcp-emu logs scheduler -f
`;

export const EXPLAIN_HELP = `usage: dcp-emu explain <jobId> [--json] [--data-dir DIR]

Why is my job idle? The job's state (status, slices left, escrow/funds) and, for every worker
connected to the scheduler, why it is not computing this job: not in the job's compute group,
requirements vs its capabilities, offer below its minimum wage, no funds (ENOFUNDS), origin refused,
sandboxes busy, or no workers at all.

  --json                the scheduler's answer as JSON

example:  dcp-emu explain 0x1234…abcd
`;

export type StatusCommand = { kind: 'status'; dataDir: string; json: boolean };
export type LogsCommand = {
  kind: 'logs';
  dataDir: string;
  service: string | undefined;
  follow: boolean;
  lines: number;
  json: boolean;
};
export type ExplainCommand = { kind: 'explain'; dataDir: string; jobId: string; json: boolean };

const SERVICES = ['scheduler', 'bank', 'portal', 'worker'] as const;

/** `dcp-emu status …` arguments. */
export function parseStatus(rest: string[], dataDirOf: DataDirOf): StatusCommand {
  const { values } = parse(rest, {
    'data-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  return { kind: 'status', dataDir: dataDirOf(values['data-dir']), json: values.json as boolean };
}

/** `dcp-emu logs …` arguments. */
export function parseLogs(rest: string[], dataDirOf: DataDirOf): LogsCommand {
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

/** `dcp-emu explain …` arguments. */
export function parseExplain(rest: string[], dataDirOf: DataDirOf): ExplainCommand {
  const { values, positionals } = parse(
    rest,
    { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } },
    true,
  );
  const [jobId, extra] = positionals;
  if (!jobId || extra !== undefined) throw new UsageError('usage: dcp-emu explain <jobId> [--json]');
  return { kind: 'explain', dataDir: dataDirOf(values['data-dir']), jobId, json: values.json as boolean };
}
