import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Identity, readKeystoreFile, writeKeystoreFile } from '@dcp-emu/protocol/node';
import {
  parseWorkerInit,
  WORKER_INIT_USAGE,
  type WorkerInitOptions,
  WorkerInitUsageError,
} from './worker-init-args';
import { checkScheduler, type Reach } from './worker-init-reach';
import { dcpWorkerConfig, defaultPaths, emuWorkerConfig, type UnitPaths, units } from './worker-init-units';

/**
 * `dcp-emu worker init`: prepares a worker machine. As root, for an unprivileged user (default
 * `dcp`, as dcp-worker's packages): the worker identity in `~user/.dcp/id.keystore` (where both
 * dcp-emu-worker and the unmodified dcp-worker look), the payment address (or a
 * `~user/.dcp/default.keystore` account), a config file for each worker, a reachability report for
 * every location the scheduler's dcp-config serves, and systemd units: dcp-emu-evaluator,
 * dcp-emu-evaluator-manager in front of it, dcp-emu-worker, and the unmodified dcp-worker.
 *
 * The options are in worker-init-args.ts, the reachability report in worker-init-reach.ts, the units
 * and config files in worker-init-units.ts; this file runs them.
 */

export {
  parseWorkerInit,
  WORKER_INIT_USAGE,
  type WorkerInitOptions,
  WorkerInitUsageError,
} from './worker-init-args';
export { checkScheduler, locationsOf, type Reach, reach } from './worker-init-reach';
export { dcpWorkerConfig, defaultPaths, emuWorkerConfig, type UnitPaths, units } from './worker-init-units';

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
