/**
 * Real-process test stack: our scheduler, bank and evaluator from their TypeScript sources, the
 * unmodified dcp-worker 3.3.19 and dcp-client programs as an unprivileged user (dcp-worker and
 * dcp-client's node evaluator refuse root) with their own HOME. Every wait is bounded.
 *
 *   const dataDir = tempDir('dcp-emu-sched-');
 *   const scheduler = await startScheduler(dataDir);
 *   const evaluator = await startEvaluator();
 *   const worker = await startDcpWorker(scheduler.url, evaluator.port, 2);
 *   const home = peerHome('dcp-emu-client-');
 *   const client = runClient(home, writePeerFile(home, 'job.cjs', source), { DCP_SCHEDULER_LOCATION: scheduler.url });
 *   await client.waitFor(/done/, 60_000);
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Identity, writeClientKeystores } from '@dcp-emu/protocol/node';
import { ensurePeerAccess } from './peer-access.js';
import { freePort } from './postgres.js';

/** The repository root (this file is packages/testing/{src,dist}/stack.*). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** dcp-client package directories: 5.6.1 at the top, 4.4.x under dcp-worker. */
export const DCP_CLIENT = {
  5: join(ROOT, 'node_modules/dcp-client'),
  4: join(ROOT, 'node_modules/dcp-worker/node_modules/dcp-client'),
} as const;
const DCP_WORKER_BIN = join(ROOT, 'node_modules/dcp-worker/bin/dcp-worker');

let peerIds: { uid: number; gid: number } | undefined;

/**
 * dcp-worker and dcp-client's evaluator refuse root: peers run as `nobody` when we are root. The
 * first call makes sure `nobody` can reach the checkout (a clone in a private directory: see
 * peer-access.ts), or throws saying what to do.
 */
export function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (!peerIds) {
    const ids = {
      uid: Number(execFileSync('id', ['-u', 'nobody']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'nobody']).toString().trim()),
    };
    ensurePeerAccess(ROOT, ids);
    peerIds = ids;
  }
  return peerIds;
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), ids);
}

/** A process whose output (stdout + stderr) we keep and can wait on (bounded). */
export class Proc {
  out = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    // DCP_EMU_TEST_LOG_DIR: every process's output also goes to <dir>/<pid>-<program>.log
    const logDir = process.env.DCP_EMU_TEST_LOG_DIR;
    const log = logDir
      ? join(logDir, `${child.pid}-${basename(child.spawnargs.at(-1) ?? 'proc')}.log`)
      : undefined;
    const take = (d: Buffer) => {
      this.out += d.toString();
      if (log) appendFileSync(log, d);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise((res) =>
      child.once('exit', (code, signal) => res(code ?? (signal ? -1 : null))),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait until the output matches, the process exits, or the time is up. */
  async waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.out);
      if (m) return m;
      if (!this.running) throw new Error(`process exited before ${pattern}:\n${this.out.slice(-4000)}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}:\n${this.out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** `OUT {json}` lines a peer script printed, parsed. */
  outputs(): Record<string, unknown>[] {
    return this.out
      .split('\n')
      .filter((l) => l.startsWith('OUT '))
      .map((l) => JSON.parse(l.slice(4)) as Record<string, unknown>);
  }

  /**
   * Signal the process and everything it started: our launchers re-execute themselves (the evaluator
   * with --no-node-snapshot) and our worker runs its own evaluator, which a signal to the direct
   * child alone would leave running. Processes of this module run in their own process group.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.child.pid;
    try {
      if (pid !== undefined) process.kill(-pid, signal);
      else this.child.kill(signal);
    } catch {
      this.child.kill(signal);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<void> {
    if (!this.running) {
      this.kill('SIGKILL'); // what it left behind, if anything
      return;
    }
    const t = setTimeout(() => this.kill('SIGKILL'), ms);
    this.kill(signal);
    await this.exited;
    clearTimeout(t);
    if (signal !== 'SIGKILL') this.kill('SIGKILL');
  }
}

/** A fresh temporary directory (remove it with cleanup()). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One of our services from its TypeScript sources, as `npm start` runs it; resolves once listening. */
async function startService(
  main: string,
  dataDir: string,
  env: Record<string, string>,
): Promise<Proc & { url: string; port: number }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(ROOT, main)], {
    cwd: ROOT,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json'),
      DCP_EMU_DATA_DIR: dataDir,
      DCP_EMU_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const proc = new Proc(child);
  const m = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:(\d+)\/)","msg":"listening"/, 60_000);
  return Object.assign(proc, { url: m[1] as string, port: Number(m[2]) });
}

/** The scheduler on `port` (0: a free one) with its data in `dataDir`. */
export function startScheduler(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<Proc & { url: string; port: number }> {
  return startService('apps/scheduler/src/main.ts', dataDir, {
    DCP_EMU_SCHEDULER_PORT: String(port),
    DCP_EMU_LEASE_SWEEP_MS: '250',
    ...env,
  });
}

/** The bank on `port` (0: a free one) with its data in `dataDir`. */
export function startBank(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<Proc & { url: string; port: number }> {
  return startService('apps/bank/src/main.ts', dataDir, { DCP_EMU_BANK_PORT: String(port), ...env });
}

/** Our evaluator (apps/worker) on a free port. */
export async function startEvaluator(): Promise<Proc & { port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'apps/worker/bin/dcp-emu-evaluator.js'), '-p', '0'], {
    cwd: ROOT,
    env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const proc = new Proc(child);
  const m = await proc.waitFor(/"port":(\d+),"msg":"evaluator listening"/, 30_000);
  return Object.assign(proc, { port: Number(m[1]) });
}

/**
 * Our worker (apps/worker) from its sources, with its own evaluator port and data dir; `groups` are
 * `-g joinKey,secret` memberships, `args` more of its options (e.g. `--minimumWage 5`). Resolves once
 * its sandboxes are up.
 */
export async function startOurWorker(
  schedulerUrl: string,
  dataDir: string,
  options: { groups?: string[]; cores?: number; args?: string[] } = {},
): Promise<Proc> {
  const cores = options.cores ?? 2;
  const args = [
    join(ROOT, 'apps/worker/bin/dcp-emu-worker.js'),
    '--dcp-scheduler',
    schedulerUrl,
    '-o',
    'console',
    '-c',
    String(cores),
    '-p',
    String(await freePort()),
    '--paymentAddress',
    Identity.random().address,
    '--data-dir',
    dataDir,
    '-W',
    '500',
    ...(options.groups ?? []).flatMap((g) => ['-g', g]),
    ...(options.args ?? []),
  ];
  const proc = new Proc(
    spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, DCP_EMU_WORKER_FROM_SOURCE: '1', DCP_EMU_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
  await proc.waitFor(new RegExp(`Sandboxes: ${cores}`), 60_000);
  return proc;
}

/** A home directory with empty-passphrase keystores (~/.dcp), owned by the peer user. */
export function peerHome(prefix: string): string {
  const home = tempDir(prefix);
  writeClientKeystores(join(home, '.dcp'));
  const ids = unprivileged();
  if (ids) chownTree(home, ids);
  return home;
}

/** Write a file into a peer's HOME, owned by the peer user; returns its path. */
export function writePeerFile(home: string, name: string, text: string): string {
  const file = join(home, name);
  writeFileSync(file, text);
  const ids = unprivileged();
  if (ids) chownSync(file, ids.uid, ids.gid);
  return file;
}

/**
 * The unmodified dcp-worker 3.3.19 (as the peer user, own HOME) on our evaluator; `args` are extra
 * command-line options (e.g. `['-g', 'joinKey,secret']`). Resolves once it is ready.
 */
export async function startDcpWorker(
  schedulerUrl: string,
  evaluatorPort: number,
  cores = 2,
  args: string[] = [],
): Promise<Proc & { home: string }> {
  const home = peerHome('dcp-emu-worker-');
  const child = spawn(
    process.execPath,
    [
      DCP_WORKER_BIN,
      '-o',
      'console',
      '--port',
      String(evaluatorPort),
      '--hostname',
      '127.0.0.1',
      '-c',
      String(cores),
      ...args,
    ],
    {
      cwd: home,
      env: peerEnv({
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        LANG: 'C',
        DCP_SCHEDULER_LOCATION: schedulerUrl,
        DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(unprivileged() ?? {}),
    },
  );
  const proc = new Proc(child);
  await proc.waitFor(/\* Ready\./, 60_000);
  return Object.assign(proc, { home });
}

/** Run a dcp-client program (an unmodified example or a test script) as the peer user in `home`. */
export function runClient(
  home: string,
  script: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: home,
    env: peerEnv({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(unprivileged() ?? {}),
  });
  return new Proc(child);
}

/**
 * A peer's whole environment: only these variables (none of ours leak in). Typed as a ProcessEnv
 * even where a framework's types (Next.js) make `NODE_ENV` required: peers do not get one.
 */
function peerEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return vars as unknown as NodeJS.ProcessEnv;
}

/** Removes test directories (DCP_EMU_KEEP_TEST_DIRS=1 keeps them, with their logs, and names them). */
export function cleanup(...dirs: (string | undefined)[]): void {
  if (process.env.DCP_EMU_KEEP_TEST_DIRS === '1') {
    for (const d of dirs) if (d) console.error(`kept ${d}`);
    return;
  }
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}
