import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_LOG_ROTATION, type LogRotation, RotatingLog } from './log-rotate';

/** The repository root (packages/cli/dist → ../../..). */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** Processes `up` starts (the worker starts its own evaluator on the `evaluator` port). */
export type ServiceName = 'scheduler' | 'bank' | 'portal' | 'worker';

export interface StackOptions {
  host: string;
  dataDir: string;
  databaseUrl?: string;
  ports: Record<ServiceName | 'evaluator', number>;
  logLevel: string;
  /** Services to start. */
  services: ServiceName[];
  /** guards the services' `/admin/state` routes (reset, snapshots) */
  adminToken?: string;
  /** sandboxes of the worker */
  workers?: number;
  /** isolated-vm: the worker starts its own evaluator; external: one listens on the evaluator port */
  evaluator?: 'isolated-vm' | 'external';
  /** origins work functions and job data may also use (`--allow-origin`) */
  allowOrigins?: string[];
  /** deny by default: no loopback origins for the worker (`--strict-origins`) */
  strictOrigins?: boolean;
  /** more environment for every service (`dcp-emu serve`: faucet off, public URLs) */
  extraEnv?: Record<string, string>;
  /** size-based rotation of each service's log (`--log-max-size`, `--log-keep`) */
  logRotation?: LogRotation;
}

export interface ServiceSpec {
  name: ServiceName;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Base URL, with trailing slash. */
  url: string;
  readyPath: string;
  /** TCP ports the process listens on (checked for stray holders before each start) */
  ports: number[];
  /** how its log rotates (default: DEFAULT_LOG_ROTATION) */
  logRotation?: LogRotation;
}

export function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

/** How each service process is started. The env is the one contract between the CLI and the apps. */
export function specs(o: StackOptions): ServiceSpec[] {
  const url = (n: ServiceName) => urlOf(o.host, o.ports[n]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DCP_EMU_HOST: o.host,
    DCP_EMU_DATA_DIR: o.dataDir,
    DCP_EMU_LOG_LEVEL: o.logLevel,
    DCP_EMU_SCHEDULER_PORT: String(o.ports.scheduler),
    DCP_EMU_BANK_PORT: String(o.ports.bank),
    DCP_EMU_PORTAL_PORT: String(o.ports.portal),
    DCP_EMU_WORKER_PORT: String(o.ports.worker),
    DCP_EMU_EVALUATOR_PORT: String(o.ports.evaluator),
    DCP_EMU_SCHEDULER_URL: url('scheduler'),
    DCP_EMU_BANK_URL: url('bank'),
    NEXT_TELEMETRY_DISABLED: '1',
    ...(o.databaseUrl ? { DCP_EMU_DATABASE_URL: o.databaseUrl } : {}),
    ...(o.adminToken ? { DCP_EMU_ADMIN_TOKEN: o.adminToken } : {}),
    ...o.extraEnv,
  };
  const workerEnv: NodeJS.ProcessEnv = {
    ...env,
    ...(o.workers ? { DCP_EMU_WORKER_SANDBOXES: String(o.workers) } : {}),
    ...(o.evaluator === 'external' ? { DCP_EMU_WORKER_EVALUATOR: 'external' } : {}),
    ...(o.allowOrigins?.length ? { DCP_EMU_WORKER_ALLOW_ORIGINS: o.allowOrigins.join(',') } : {}),
    ...(o.strictOrigins ? { DCP_EMU_WORKER_STRICT_ORIGINS: '1' } : {}),
  };
  const node = process.execPath;
  // Extra Node flags for every service, e.g. DCP_EMU_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile.
  const extra = (process.env.DCP_EMU_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const all: ServiceSpec[] = [
    {
      name: 'scheduler',
      command: node,
      args: [...extra, '--enable-source-maps', join(ROOT, 'apps/scheduler/dist/main.js')],
      cwd: ROOT,
      env,
      url: url('scheduler'),
      readyPath: 'readyz',
      ports: [o.ports.scheduler],
    },
    {
      name: 'bank',
      command: node,
      args: [...extra, '--enable-source-maps', join(ROOT, 'apps/bank/dist/main.js')],
      cwd: ROOT,
      env,
      url: url('bank'),
      readyPath: 'readyz',
      ports: [o.ports.bank],
    },
    {
      name: 'portal',
      command: node,
      // Next.js plus the /api/live WebSocket on one port (apps/portal/server.ts; port and host from env)
      args: [...extra, '--conditions=source', '--import', 'tsx', join(ROOT, 'apps/portal/server.ts')],
      cwd: join(ROOT, 'apps/portal'),
      env: { ...env, PORT: String(o.ports.portal), NODE_ENV: 'production' },
      url: url('portal'),
      readyPath: 'api/ready',
      ports: [o.ports.portal],
    },
    {
      name: 'worker',
      command: node,
      args: [...extra, '--no-node-snapshot', '--enable-source-maps', join(ROOT, 'apps/worker/dist/main.js')],
      cwd: ROOT,
      env: workerEnv,
      url: url('worker'),
      readyPath: 'readyz',
      ports: o.evaluator === 'external' ? [o.ports.worker] : [o.ports.worker, o.ports.evaluator],
    },
  ];
  return all
    .filter((s) => o.services.includes(s.name))
    .map((s) => (o.logRotation ? { ...s, logRotation: o.logRotation } : s));
}

export interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/** Starts one service; its stdout/stderr go to <dataDir>/logs/<name>.log, rotated by size. */
export function launch(spec: ServiceSpec, dataDir: string): Running {
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const logFile = join(logs, `${spec.name}.log`);
  const out = new RotatingLog(logFile, spec.logRotation ?? DEFAULT_LOG_ROTATION);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  // 'close': the process has exited and its stdout/stderr are drained
  child.once('close', () => out.end());
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code, signal) => res(code ?? (signal ? 128 : null))),
  );
  return { spec, child, logFile, exited };
}

/** Polls the service's readiness URL until it answers 200, the process exits, or time runs out. */
export async function waitReady(r: Running, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  r.exited.then(() => {
    exited = true;
  });
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${r.spec.name} exited during start-up (exit code ${r.child.exitCode})`);
    try {
      const res = await fetch(new URL(r.spec.readyPath, r.spec.url), { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${r.spec.name} not ready after ${timeoutMs / 1000}s (${last})`);
}

export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** SIGTERM, then SIGKILL after a grace period; resolves when every child has exited. */
export async function stopAll(running: Running[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    running.map(async (r) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return;
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
      await r.exited;
      clearTimeout(timer);
    }),
  );
}
