import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addFault,
  adminTokenFile,
  clearFaults,
  type Fault,
  type FaultSpec,
  listFaults,
  resetStack,
  restoreState,
  saveState,
  stateOwners,
  balanceOf,
  type DevAccount,
  devAccounts,
  devSettingsFile,
  ensureBuilt,
  fundTo,
  freePortBase,
  needsSeed,
  readDevSettings,
  readStackInfo,
  removeStackInfo,
  ROOT,
  type Running,
  type ServiceName,
  type StackInfo,
  seed,
  specs,
  stopAll,
  SupervisedService,
  tail,
  waitReady,
  writeStackInfo,
} from './cli';
import { type EmulatorClock, emulatorClock } from './clock';

export { durationMs, type EmulatorClock } from './clock';
export type { Fault, FaultSpec } from './cli';

export interface EmulatorOptions {
  /** worker sandboxes (default 2; 0: no worker, e.g. to run dcp-worker yourself) */
  workers?: number;
  /** start the portal too (default false) */
  portal?: boolean;
  /** dev accounts to derive and fund (default 4) */
  accounts?: number;
  /** each dev account's start balance in DCC (default '1000') */
  fund?: string;
  /** keep state here (default: a throw-away directory, removed by stop()) */
  dataDir?: string;
  /** bind address (default 127.0.0.1) */
  host?: string;
  /** the services' log level (default 'warn'); logs are in `<dataDir>/logs` */
  logLevel?: string;
  /** build what is missing first (default true: only when a service has never been built) */
  build?: boolean;
  /** how long to wait for each service (default 120 s) */
  readyTimeoutMs?: number;
  /** extra environment for every service, e.g. `{ DCP_EMU_LEASE_MS: '20000' }` */
  serviceEnv?: Record<string, string>;
}

export interface DcpEnvironment {
  DCP_SCHEDULER_LOCATION: string;
  DCP_RESOURCE_DIR: string;
  DCP_HOMEDIR: string;
  DCP_EMU_DATA_DIR: string;
  [name: string]: string;
}

export interface EmulatorFaults {
  /** inject a fault (see `dcp-emu fault --help`); returns it with its id */
  add(spec: FaultSpec): Promise<Fault>;
  /** every fault, active and spent, with how often each acted */
  list(): Promise<Fault[]>;
  /** remove one fault (by id) or all; returns how many */
  clear(id?: string): Promise<number>;
}

export interface Emulator {
  schedulerUrl: string;
  bankUrl: string;
  portalUrl?: string;
  /**
   * The environment an unmodified dcp-client program needs (`DCP_SCHEDULER_LOCATION`, the dev
   * keystores' `DCP_RESOURCE_DIR`, `DCP_HOMEDIR`): pass it to a child process, or
   * `Object.assign(process.env, emu.env)` before dcp-client's `init()`.
   */
  env: DcpEnvironment;
  dataDir: string;
  adminToken: string;
  /** the funded dev accounts; account 0 is the identity and payment account of the keystores in `env` */
  accounts: DevAccount[];
  /** mint `dcc` more DCC to `address` (dev faucet); resolves to the new balance */
  fund(address: string, dcc: string | number): Promise<string>;
  balance(address: string): Promise<string>;
  /** back to the seeded state: no jobs, dev accounts at their start balance (faults stay: faults.clear()) */
  reset(): Promise<void>;
  snapshot(name: string): Promise<void>;
  restore(name: string): Promise<void>;
  faults: EmulatorFaults;
  clock: EmulatorClock;
  /** stop every service and remove a throw-away data dir */
  stop(): Promise<void>;
}

const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A throw-away dcp-emu stack for a test run: scheduler, bank and a worker (portal if asked) on free
 * ports, with their own data dir, funded dev accounts and an admin token; services that exit
 * unexpectedly (a crashed worker) are restarted as under `dcp-emu up`. Call `stop()` when done.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const workers = options.workers ?? 2;
  const services: ServiceName[] = ['scheduler', 'bank'];
  if (options.portal) services.push('portal');
  if (workers > 0) services.push('worker');
  const builtAlready = [
    'apps/scheduler/dist/main.js',
    'apps/bank/dist/main.js',
    'apps/worker/dist/main.js',
  ].every((f) => existsSync(join(ROOT, f)));
  if (
    options.build !== false &&
    (!builtAlready || (options.portal && !existsSync(join(ROOT, 'apps/portal/.next/BUILD_ID'))))
  )
    ensureBuilt({ portal: !!options.portal });

  const throwAway = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dcp-emu-test-'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminToken = randomBytes(32).toString('hex');
  writeFileSync(adminTokenFile(dataDir), `${adminToken}\n`, { mode: 0o600 });
  const accounts = devAccounts(options.accounts ?? 4);
  const fundEach = options.fund ?? '1000';
  // loaded here, not at the top: it needs @dcp-emu/protocol, which jest test files (attachEmulator) cannot load
  const { resourceDirOf, writeDevKeystores } = await import('@dcp-emu/cli/lib/identities');
  const resourceDir = resourceDirOf(dataDir);
  const homeDir = join(dataDir, 'home');
  mkdirSync(homeDir, { recursive: true });
  writeDevKeystores(resourceDir, accounts[0] as DevAccount);
  writeFileSync(
    devSettingsFile(dataDir),
    `${JSON.stringify({ fund: fundEach, accounts: accounts.map((a) => ({ index: a.index, address: a.address })) }, null, 2)}\n`,
  );

  const base = await freePortBase(host);
  const ports = { scheduler: base, bank: base + 1, portal: base + 2, worker: base + 3, evaluator: base + 4 };
  const list = specs({
    host,
    dataDir,
    ports,
    logLevel: options.logLevel ?? 'warn',
    services,
    adminToken,
    workers,
    evaluator: 'isolated-vm',
  }).map((s) => ({ ...s, env: { ...s.env, ...options.serviceEnv } }));
  const info: StackInfo = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dataDir,
    resourceDir,
    homeDir,
    urls: Object.fromEntries(list.map((s) => [s.name, s.url])),
  };
  const supervised: SupervisedService[] = [];
  let published = false;
  const changed = () => {
    info.processes = Object.fromEntries(supervised.map((s) => [s.spec.name, s.info]));
    if (published) writeStackInfo(info);
  };
  const running = () => supervised.flatMap((s) => (s.current ? [s.current] : []));
  // a test process that ends without stop() takes its services along
  const killAll = () => {
    for (const r of running())
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  // …and so does one stopped by a signal: the services go, then the signal does what it would have done
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const s of supervised) s.stop();
      await stopAll(running());
      process.removeListener('exit', killAll);
      for (const signal of signals) process.removeListener(signal, onSignal);
      removeStackInfo(dataDir, process.pid);
      if (throwAway) rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const supervise = (spec: (typeof list)[number]): Running => {
    const s = new SupervisedService(spec, dataDir, changed);
    supervised.push(s);
    return s.start();
  };
  const timeout = options.readyTimeoutMs ?? 120_000;
  try {
    const [first, ...rest] = list;
    if (first) await waitReady(supervise(first), timeout);
    await Promise.all(rest.map((spec) => waitReady(supervise(spec), timeout)));
    if (await needsSeed(info)) await seed(info, accounts, fundEach);
  } catch (e) {
    const logs = running()
      .map((r) => `--- ${r.spec.name} (${r.logFile}) ---\n${tail(r.logFile, 15)}`)
      .join('\n');
    await stop();
    throw new Error(`dcp-emu did not start: ${(e as Error).message}\n${logs}`);
  }
  published = true;
  changed();
  for (const s of supervised) s.supervise();

  return emulatorOf(info, adminToken, accounts, fundEach, stop);
}

/**
 * The stack a test runs in, from the environment: `dcp-emu exec -- npm test`, or a global setup that
 * called `startEmulator()` and put `emu.env` in `process.env` (`DCP_EMU_DATA_DIR` names the stack's
 * data dir, where `up` and `startEmulator` record it). `stop()` of an attached stack does nothing:
 * whoever started it stops it.
 */
export function attachEmulator(dataDir = process.env.DCP_EMU_DATA_DIR): Emulator {
  if (!dataDir)
    throw new Error(
      'no dcp-emu stack to attach to: DCP_EMU_DATA_DIR is not set (run under dcp-emu exec, or startEmulator())',
    );
  const info = readStackInfo(dataDir);
  if (!info) throw new Error(`no dcp-emu stack is running for ${dataDir}`);
  const adminToken = readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  const settings = readDevSettings(dataDir);
  return emulatorOf(
    info,
    adminToken,
    devAccounts(Math.max(1, settings.accounts.length)),
    settings.fund,
    async () => {},
  );
}

function emulatorOf(
  info: StackInfo,
  adminToken: string,
  accounts: DevAccount[],
  fundEach: string,
  stop: () => Promise<void>,
): Emulator {
  const { dataDir } = info;
  const schedulerUrl = info.urls.scheduler as string;
  const bankUrl = info.urls.bank as string;
  const faultsTarget = { schedulerUrl, adminToken };
  const checkName = (name: string) => {
    if (!SNAPSHOT_NAME.test(name))
      throw new Error(`snapshot names are letters, digits, ".", "_" and "-" (got "${name}")`);
  };
  return {
    schedulerUrl,
    bankUrl,
    ...(info.urls.portal ? { portalUrl: info.urls.portal } : {}),
    env: {
      DCP_SCHEDULER_LOCATION: schedulerUrl,
      DCP_RESOURCE_DIR: info.resourceDir,
      DCP_HOMEDIR: info.homeDir,
      DCP_EMU_DATA_DIR: dataDir,
    },
    dataDir,
    adminToken,
    accounts,
    balance: (address) => balanceOf(bankUrl, address),
    fund: async (address, dcc) => {
      const { formatDcc, parseDcc } = await import('@dcp-emu/protocol');
      const now = parseDcc(await balanceOf(bankUrl, address), { sign: 'any' });
      const more = parseDcc(typeof dcc === 'number' ? dcc.toFixed(9) : dcc, { sign: 'nonNegative' });
      return fundTo(bankUrl, address, formatDcc(now + more), adminToken);
    },
    reset: () =>
      resetStack(
        info,
        accounts.map((a) => ({ address: a.address })),
        fundEach,
      ),
    snapshot: async (name) => {
      checkName(name);
      await Promise.all((await stateOwners(info)).map(({ service }) => saveState(info, service, name)));
    },
    restore: async (name) => {
      checkName(name);
      const owners = await stateOwners(info);
      if (!existsSync(join(dataDir, 'snapshots', name))) throw new Error(`no snapshot ${name}`);
      await Promise.all(owners.map(({ service }) => restoreState(info, service, name)));
    },
    faults: {
      add: (spec) => addFault(faultsTarget, spec),
      list: () => listFaults(faultsTarget),
      clear: (id) => clearFaults(faultsTarget, id),
    },
    clock: emulatorClock({ schedulerUrl, bankUrl, adminToken }),
    stop,
  };
}
