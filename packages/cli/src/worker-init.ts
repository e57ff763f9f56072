import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Identity, parseKvin, readKeystoreFile, writeKeystoreFile } from '@dcp-emu/protocol/node';
import { z } from 'zod';

/**
 * `dcp-emu worker init`: prepares a worker machine. As root, for an unprivileged user (default
 * `dcp`, as dcp-worker's packages): the worker identity in `~user/.dcp/id.keystore` (where both
 * dcp-emu-worker and the unmodified dcp-worker look), the payment address (or a
 * `~user/.dcp/default.keystore` account), a config file for each worker, a reachability report for
 * every location the scheduler's dcp-config serves, and systemd units: dcp-emu-evaluator,
 * dcp-emu-evaluator-manager in front of it, dcp-emu-worker, and the unmodified dcp-worker.
 */

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

/** The repository / install root (this file is packages/cli/{src,dist}/worker-init.*). */
const ROOT = resolve(__dirname, '..', '..', '..');

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

export interface Account {
  uid: number;
  gid: number;
  home: string;
}

/** The user's uid, gid and home from the password database (getent, else /etc/passwd). */
export function lookupUser(user: string): Account | undefined {
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim();
  } catch {
    try {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${user}:`));
    } catch {
      line = undefined;
    }
  }
  const f = line?.split(':');
  if (!f || f.length < 7) return undefined;
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] as string };
}

// ── reachability ────────────────────────────────────────────────────────────────────────────

export interface Reach {
  /** where in dcp-config, e.g. `scheduler.services.taskDistributor.location` */
  name: string;
  url: string;
  ok: boolean;
  detail: string;
}

/** Every `location` (URL or URL string) in a dcp-config tree, by its dotted path. */
export function locationsOf(config: unknown): { name: string; url: URL }[] {
  const found: { name: string; url: URL }[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string[]) => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (/location$/i.test(key) && key !== 'configLocation') {
        const href =
          value instanceof URL
            ? value.href
            : typeof value === 'string' || value instanceof String
              ? String(value)
              : typeof (value as { href?: unknown } | null)?.href === 'string'
                ? (value as { href: string }).href
                : undefined;
        if (href) {
          try {
            found.push({ name: [...path, key].join('.'), url: new URL(href) });
          } catch {
            // not a URL: nothing to reach
          }
        }
        continue;
      }
      walk(value, [...path, key]);
    }
  };
  walk(config, []);
  return found;
}

function tcpReach(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((res) => {
    const s = connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      res(`no connection in ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      res(undefined);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      res(e.message);
    });
  });
}

/** One location: http(s) must answer (any HTTP status is an answer); other schemes must accept TCP. */
export async function reach(name: string, url: URL, timeoutMs: number): Promise<Reach> {
  const t0 = Date.now();
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return { name, url: url.href, ok: true, detail: `HTTP ${res.status}, ${Date.now() - t0} ms` };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return {
        name,
        url: url.href,
        ok: false,
        detail: cause?.code ?? cause?.message ?? (e as Error).message,
      };
    }
  }
  const port = Number(url.port);
  if (!url.hostname || !port) return { name, url: url.href, ok: true, detail: 'not a network location' };
  const error = await tcpReach(url.hostname, port, timeoutMs);
  return error
    ? { name, url: url.href, ok: false, detail: error }
    : { name, url: url.href, ok: true, detail: `TCP, ${Date.now() - t0} ms` };
}

/** The scheduler's dcp-config (KVIN, as dcp-client fetches it) and a check of every location in it. */
export async function checkScheduler(
  scheduler: URL,
  timeoutMs: number,
): Promise<{ config: unknown; reached: Reach[] }> {
  const configUrl = new URL('/etc/dcp-config.kvin?ver=2.1.0', scheduler);
  const res = await fetch(configUrl, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${configUrl.href}: HTTP ${res.status}`);
  const config = parseKvin(await res.text());
  const byUrl = new Map<string, { name: string; url: URL }>();
  for (const l of [{ name: 'scheduler (--scheduler)', url: scheduler }, ...locationsOf(config)])
    if (!byUrl.has(l.url.href)) byUrl.set(l.url.href, l);
  const reached = await Promise.all([...byUrl.values()].map((l) => reach(l.name, l.url, timeoutMs)));
  return { config, reached };
}

// ── files ───────────────────────────────────────────────────────────────────────────────────

export interface UnitPaths {
  node: string;
  evaluatorBin: string;
  managerBin: string;
  workerBin: string;
  dcpWorkerBin: string;
}

export function defaultPaths(dcpWorkerBin: string): UnitPaths {
  const bin = (name: string) => join(ROOT, 'apps', 'worker', 'bin', name);
  return {
    node: process.execPath,
    evaluatorBin: bin('dcp-emu-evaluator.js'),
    managerBin: bin('dcp-emu-evaluator-manager.js'),
    workerBin: bin('dcp-emu-worker.js'),
    dcpWorkerBin,
  };
}

/** systemd quoting of one ExecStart word. */
function q(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\$])/g, '\\$1')}"`;
}

function unit(description: string, user: string, home: string, exec: string[], extra: string[] = []): string {
  return `# written by dcp-emu worker init
[Unit]
Description=${description}
Wants=network-online.target
After=network-online.target
${extra.filter((l) => /^(After|Wants|Requires|BindsTo|PartOf)=/.test(l)).join('\n')}

[Service]
Type=simple
User=${user}
WorkingDirectory=${home}
Environment=HOME=${home}
Environment=NODE_ENV=production
${extra.filter((l) => !/^(After|Wants|Requires|BindsTo|PartOf)=/.test(l)).join('\n')}
ExecStart=${exec.map(q).join(' ')}
Restart=always
RestartSec=5
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
`.replace(/\n{3,}/g, '\n\n');
}

/** The four units, by file name. */
export function units(o: WorkerInitOptions, home: string, paths: UnitPaths): Record<string, string> {
  const inner = o.evaluatorPort + 1;
  return {
    'dcp-emu-evaluator.service': unit('dcp-emu evaluator (V8 sandboxes for DCP workers)', o.user, home, [
      paths.node,
      paths.evaluatorBin,
      '-p',
      String(inner),
      '-H',
      '127.0.0.1',
    ]),
    'dcp-emu-evaluator-manager.service': unit(
      'dcp-emu evaluator manager (pauses DCP work under load or an active terminal)',
      o.user,
      home,
      [paths.node, paths.managerBin, '-p', String(o.evaluatorPort), '--evaluator', `127.0.0.1:${inner}`],
      ['After=dcp-emu-evaluator.service', 'Requires=dcp-emu-evaluator.service'],
    ),
    'dcp-emu-worker.service': unit(
      `dcp-emu worker for ${o.scheduler.href}`,
      o.user,
      home,
      [
        paths.node,
        paths.workerBin,
        '--external-evaluator',
        '-o',
        'console',
        '-H',
        '127.0.0.1',
        '-p',
        String(o.evaluatorPort),
      ],
      [
        'After=dcp-emu-evaluator-manager.service',
        'Wants=dcp-emu-evaluator-manager.service',
        // graceful stop as dcp-worker: SIGINT finishes and submits running slices
        'KillSignal=SIGINT',
        'TimeoutStopSec=90',
      ],
    ),
    'dcp-worker.service': unit(
      `unmodified dcp-worker for ${o.scheduler.href}`,
      o.user,
      home,
      [paths.node, paths.dcpWorkerBin, '-o', 'console', '-H', '127.0.0.1', '-p', String(o.evaluatorPort)],
      [
        'After=dcp-emu-evaluator-manager.service',
        'Wants=dcp-emu-evaluator-manager.service',
        `Environment=DCP_SCHEDULER_LOCATION=${o.scheduler.href}`,
        'KillSignal=SIGINT',
        'TimeoutStopSec=90',
      ],
    ),
  };
}

/** dcp-emu-worker's config file (also read by the evaluator manager). */
export function emuWorkerConfig(o: WorkerInitOptions, paymentAddress: string): string {
  return `// written by dcp-emu worker init; precedence: defaults < this file < environment < flags
{
  scheduler: { location: new URL(${JSON.stringify(o.scheduler.href)}) },
  evaluator: { location: new URL('dcpsaw://127.0.0.1:${o.evaluatorPort}/') },
  worker: {
    paymentAddress: ${JSON.stringify(paymentAddress)},
    cores: { cpu: ${o.cores} },
  },
  evaluatorManager: {
    listen: ${o.evaluatorPort},
    evaluator: '127.0.0.1:${o.evaluatorPort + 1}',
${o.maxLoad > 0 ? `    maxLoad: ${o.maxLoad},\n` : ''}    loadavgType: 'short',
    idleTimeout: 30,
  },
}
`;
}

/** The unmodified dcp-worker's `~/.dcp/dcp-worker/dcp-config.js` (merged over its etc/dcp-worker-config.js). */
export function dcpWorkerConfig(o: WorkerInitOptions, paymentAddress: string): string {
  return `// written by dcp-emu worker init
{
  scheduler: { location: new URL(${JSON.stringify(o.scheduler.href)}) },
  worker: {
    paymentAddress: ${JSON.stringify(paymentAddress)},
    cores: { cpu: ${o.cores} },
  },
}
`;
}

export interface InitReport {
  identity: string;
  identityFile: string;
  identityCreated: boolean;
  paymentAddress: string;
  paymentKeystore: string | undefined;
  files: string[];
  reached: Reach[];
}

/**
 * Ports of `worker init`'s side effects that tests replace: the password database and file
 * ownership (a test as an ordinary user cannot chown).
 */
export interface InitPorts {
  lookupUser(user: string): Account | undefined;
  chown(path: string, account: Account): void;
  paths: UnitPaths;
  log(line: string): void;
}

function defaultPorts(o: WorkerInitOptions): InitPorts {
  return {
    lookupUser,
    chown: (path, a) => {
      if (process.getuid?.() === 0) chownSync(path, a.uid, a.gid);
    },
    paths: defaultPaths(o.dcpWorkerBin),
    log: (line) => process.stdout.write(`${line}\n`),
  };
}

export class WorkerInitError extends Error {}

export async function workerInit(
  o: WorkerInitOptions,
  ports: InitPorts = defaultPorts(o),
): Promise<InitReport> {
  const account = ports.lookupUser(o.user);
  if (!account)
    throw new WorkerInitError(
      `no user "${o.user}" on this machine; create one, e.g. useradd --system --create-home ${o.user}`,
    );
  if (account.uid === 0)
    throw new WorkerInitError(
      `"${o.user}" is root: workers run as an unprivileged user (dcp-worker refuses root), e.g. --user dcp`,
    );
  const home = o.home ?? account.home;
  const owned = { ...account, home };
  for (const [name, path] of Object.entries(ports.paths))
    if (name !== 'node' && !existsSync(path)) throw new WorkerInitError(`${path} does not exist (${name})`);

  // the scheduler first: nothing is written for a scheduler that does not answer
  ports.log(`scheduler: ${o.scheduler.href}`);
  let reached: Reach[];
  try {
    ({ reached } = await checkScheduler(o.scheduler, o.timeoutMs));
  } catch (e) {
    throw new WorkerInitError(`cannot read the scheduler's dcp-config: ${(e as Error).message}`);
  }
  for (const r of reached)
    ports.log(`  ${r.ok ? 'ok ' : 'NO '} ${r.name.padEnd(44)} ${r.url}  (${r.detail})`);

  const files: string[] = [];
  const mkdirOwned = (dir: string) => {
    const parts: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) parts.unshift(d);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of parts) if (d.startsWith(home)) ports.chown(d, owned);
  };
  const write = (file: string, text: string, mode: number) => {
    mkdirOwned(dirname(file));
    writeFileSync(file, text, { mode });
    files.push(file);
  };

  const dcpDir = join(home, '.dcp');
  mkdirOwned(dcpDir);
  const identityFile = join(dcpDir, 'id.keystore');
  let identity: Identity;
  let identityCreated = false;
  if (existsSync(identityFile)) identity = readKeystoreFile(identityFile);
  else {
    identity = Identity.random();
    writeKeystoreFile(identityFile, identity, { label: 'dcp-emu worker identity' });
    identityCreated = true;
    files.push(identityFile);
  }
  ports.chown(identityFile, owned);

  let paymentAddress = o.paymentAddress;
  let paymentKeystore: string | undefined;
  if (!paymentAddress) {
    paymentKeystore = join(dcpDir, 'default.keystore');
    let payee: Identity;
    if (existsSync(paymentKeystore)) payee = readKeystoreFile(paymentKeystore);
    else {
      payee = Identity.random();
      writeKeystoreFile(paymentKeystore, payee, { label: 'dcp-emu worker earnings' });
      files.push(paymentKeystore);
    }
    ports.chown(paymentKeystore, owned);
    paymentAddress = payee.address;
  }

  const emuConfig = join(dcpDir, 'dcp-emu-worker', 'dcp-config.js');
  write(emuConfig, emuWorkerConfig(o, paymentAddress), 0o644);
  ports.chown(emuConfig, owned);
  const dwConfig = join(dcpDir, 'dcp-worker', 'dcp-config.js');
  write(dwConfig, dcpWorkerConfig(o, paymentAddress), 0o644);
  ports.chown(dwConfig, owned);

  mkdirSync(o.out, { recursive: true });
  for (const [name, text] of Object.entries(units(o, home, ports.paths))) {
    const file = join(o.out, name);
    writeFileSync(file, text, { mode: 0o644 });
    files.push(file);
  }
  return {
    identity: identity.address,
    identityFile,
    identityCreated,
    paymentAddress,
    paymentKeystore,
    files,
    reached,
  };
}

/** `dcp-emu worker <subcommand> …` */
export async function workerCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'init') {
    process.stderr.write(`dcp-emu: unknown worker command "${sub ?? ''}"\n\n${WORKER_INIT_USAGE}`);
    return 2;
  }
  let o: WorkerInitOptions | 'help';
  try {
    o = parseWorkerInit(rest);
  } catch (e) {
    if (!(e instanceof WorkerInitUsageError)) throw e;
    process.stderr.write(`dcp-emu worker init: ${e.message}\n\n${WORKER_INIT_USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(WORKER_INIT_USAGE);
    return 0;
  }
  let report: InitReport;
  try {
    report = await workerInit(o);
  } catch (e) {
    if (!(e instanceof WorkerInitError)) throw e;
    process.stderr.write(`dcp-emu worker init: ${e.message}\n`);
    return 1;
  }
  const unreachable = report.reached.filter((r) => !r.ok);
  const out = (l: string) => process.stdout.write(`${l}\n`);
  out(`identity: ${report.identity} (${report.identityFile}${report.identityCreated ? ', new' : ', kept'})`);
  out(
    `earnings: ${report.paymentAddress}${report.paymentKeystore ? ` (key in ${report.paymentKeystore})` : ''}`,
  );
  out('written:');
  for (const f of report.files) out(`  ${f}`);
  out(
    `next: systemctl daemon-reload && systemctl enable --now dcp-emu-evaluator dcp-emu-evaluator-manager dcp-emu-worker`,
  );
  out(`      (or dcp-worker instead of dcp-emu-worker for the unmodified dcp-worker)`);
  if (unreachable.length > 0) {
    out(`! ${unreachable.length} location(s) of the scheduler's dcp-config did not answer (see above)`);
    return 3;
  }
  return 0;
}
