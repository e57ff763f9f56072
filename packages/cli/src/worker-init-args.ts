/** `dcp-emu worker init` options: the usage text, their schema and the parser. */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROOT } from './worker-init-units';

export const WORKER_INIT_USAGE = `usage: dcp-emu worker init --scheduler URL [options]

Prepares this machine as a DCP worker for that scheduler, run by an unprivileged user:
  ~USER/.dcp/id.keystore                       the worker's identity (kept if present)
  ~USER/.dcp/default.keystore                  the earnings account, unless --payment-address
  ~USER/.dcp/dcp-emu-worker/dcp-config.js      dcp-emu-worker's (and the evaluator manager's) configuration
  ~USER/.dcp/dcp-worker/dcp-config.js          the unmodified dcp-worker's configuration
  OUT/dcp-emu-evaluator.service                dcp-emu-evaluator on 127.0.0.1:EVALUATOR_PORT+1
  OUT/dcp-emu-evaluator-manager.service        pauses work under load or an active terminal, on EVALUATOR_PORT
  OUT/dcp-emu-worker.service                   our worker, through the evaluator manager
  OUT/dcp-worker.service                       or the unmodified dcp-worker, through the same manager
and checks that every location the scheduler's dcp-config names answers.

options:
  --scheduler URL          the scheduler (required)
  --user USER              the unprivileged user the services run as (default dcp; must exist)
  --home DIR               that user's home (default: from the password database)
  --out DIR                where the units go (default /etc/systemd/system)
  --payment-address 0x…    where earnings go (default: a new account in ~USER/.dcp/default.keystore)
  --evaluator-port N       the port workers connect to (default 9000; the evaluator itself uses N+1)
  --max-load N             the evaluator manager pauses work above this 1-minute load (default: the core count; 0 = never)
  --cores N                sandboxes per worker (default: the core count)
  --dcp-worker PATH        dcp-worker's bin/dcp-worker (default: the one installed with dcp-emu)
  --timeout MS             per reachability check (default 10000)
`;

export interface WorkerInitOptions {
  scheduler: URL;
  user: string;
  home: string | undefined;
  out: string;
  paymentAddress: string | undefined;
  evaluatorPort: number;
  maxLoad: number;
  cores: number;
  dcpWorkerBin: string;
  timeoutMs: number;
}

export class WorkerInitUsageError extends Error {}

const optionsSchema = z.object({
  scheduler: z.url({ protocol: /^https?$/ }),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'a user name'),
  home: z.string().min(1).optional(),
  out: z.string().min(1),
  'payment-address': z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x address')
    .optional(),
  'evaluator-port': z.coerce.number().int().min(1).max(65534),
  'max-load': z.coerce.number().min(0),
  cores: z.coerce.number().int().positive(),
  'dcp-worker': z.string().min(1),
  timeout: z.coerce.number().int().positive(),
});

export function parseWorkerInit(argv: string[]): WorkerInitOptions | 'help' {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        scheduler: { type: 'string' },
        user: { type: 'string' },
        home: { type: 'string' },
        out: { type: 'string' },
        'payment-address': { type: 'string' },
        'evaluator-port': { type: 'string' },
        'max-load': { type: 'string' },
        cores: { type: 'string' },
        'dcp-worker': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new WorkerInitUsageError((e as Error).message);
  }
  if (values.help) return 'help';
  if (values.scheduler === undefined) throw new WorkerInitUsageError('--scheduler URL is required');
  const parsed = optionsSchema.safeParse({
    user: 'dcp',
    out: '/etc/systemd/system',
    'evaluator-port': '9000',
    'max-load': String(availableParallelism()),
    cores: String(availableParallelism()),
    'dcp-worker': join(ROOT, 'node_modules', 'dcp-worker', 'bin', 'dcp-worker'),
    timeout: '10000',
    ...values,
  });
  if (!parsed.success)
    throw new WorkerInitUsageError(
      parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '),
    );
  const v = parsed.data;
  return {
    scheduler: new URL(v.scheduler),
    user: v.user,
    home: v.home === undefined ? undefined : resolve(v.home),
    out: resolve(v.out),
    paymentAddress: v['payment-address'],
    evaluatorPort: v['evaluator-port'],
    maxLoad: v['max-load'],
    cores: v.cores,
    dcpWorkerBin: resolve(v['dcp-worker']),
    timeoutMs: v.timeout,
  };
}
