import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeClientKeystores } from '@dcp-emu/protocol/node';

export const ROOT = resolve(__dirname, '../../..');
export const DCP_CLIENT = {
  5: join(ROOT, 'node_modules/dcp-client'),
  4: join(ROOT, 'node_modules/dcp-worker/node_modules/dcp-client'),
} as const;
const DCP_WORKER_BIN = join(ROOT, 'node_modules/dcp-worker/bin/dcp-worker');

/** dcp-worker and dcp-client's evaluator refuse root: peers run as `nobody` when we are root. */
export function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(execFileSync('id', ['-u', 'nobody']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'nobody']).toString().trim()),
  };
}

function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), ids);
}

/** A process whose output we keep and can wait on (bounded). */
export class Proc {
  out = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
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

  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<void> {
    if (!this.running) return;
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    this.child.kill(signal);
    await this.exited;
    clearTimeout(t);
  }
}

/** The scheduler from its TypeScript sources, as `npm start` runs it (own process, env config). */
export async function startScheduler(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<Proc & { url: string; port: number }> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(ROOT, 'apps/scheduler/src/main.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json'),
        DCP_EMU_DATA_DIR: dataDir,
        DCP_EMU_SCHEDULER_PORT: String(port),
        DCP_EMU_LOG_LEVEL: 'info',
        DCP_EMU_LEASE_SWEEP_MS: '250',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const proc = new Proc(child);
  const m = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:(\d+)\/)","msg":"listening"/, 60_000);
  return Object.assign(proc, { url: m[1] as string, port: Number(m[2]) });
}

/** Our evaluator (apps/worker) on a free port. */
export async function startEvaluator(): Promise<Proc & { port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'apps/worker/bin/dcp-emu-evaluator.js'), '-p', '0'], {
    cwd: ROOT,
    env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new Proc(child);
  const m = await proc.waitFor(/"port":(\d+),"msg":"evaluator listening"/, 30_000);
  return Object.assign(proc, { port: Number(m[1]) });
}

/** A home directory with empty-passphrase keystores, owned by the peer user. */
export function peerHome(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  writeClientKeystores(join(home, '.dcp'));
  const ids = unprivileged();
  if (ids) chownTree(home, ids);
  return home;
}

export function writePeerFile(home: string, name: string, text: string): string {
  const file = join(home, name);
  writeFileSync(file, text);
  const ids = unprivileged();
  if (ids) chownSync(file, ids.uid, ids.gid);
  return file;
}

/** The unmodified dcp-worker 3.3.19 (as an unprivileged user, own HOME) on our evaluator. */
export async function startDcpWorker(
  schedulerUrl: string,
  evaluatorPort: number,
  cores = 2,
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
    ],
    {
      cwd: home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        LANG: 'C',
        DCP_SCHEDULER_LOCATION: schedulerUrl,
        DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(unprivileged() ?? {}),
    },
  );
  const proc = new Proc(child);
  await proc.waitFor(/\* Ready\./, 60_000);
  return Object.assign(proc, { home });
}

/** Run a dcp-client program (unmodified example or a test script) as the peer user. */
export function runClient(
  home: string,
  script: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(unprivileged() ?? {}),
  });
  return new Proc(child);
}

export function cleanup(...dirs: (string | undefined)[]): void {
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}
