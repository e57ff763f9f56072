import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@dcp-emu/testing';

export const REPO = resolve(__dirname, '../../..');
export const PORTAL_DIR = join(REPO, 'apps/portal');
const NEXT_BIN = join(REPO, 'node_modules/next/dist/bin/next');
/**
 * The suites' build folder (see distDir in next.config.ts), relative to apps/portal. A suite may use
 * its own, so that another suite rebuilding the portal does not swap the files under its server.
 */
export const DIST_DIR = '.next/cache/e2e-build';

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/** Sources a portal build depends on: its own code and the workspace packages it bundles. */
const BUILD_INPUTS = [
  'apps/portal/src',
  'apps/portal/next.config.ts',
  'apps/portal/package.json',
  'apps/portal/tsconfig.json',
  'packages/service-kit/src',
  'packages/protocol/src',
  'packages/contracts/src',
  'packages/db/src/database.ts',
  'packages/db/src/index.ts',
  'prisma/models',
];

function buildIsFresh(distDir: string): boolean {
  const buildId = join(PORTAL_DIR, distDir, 'BUILD_ID');
  if (!existsSync(buildId)) return false;
  const built = statSync(buildId).mtimeMs;
  const inputs = BUILD_INPUTS.map((p) => join(REPO, p)).filter(existsSync);
  return inputs.every((p) => newestMtime(p) < built);
}

/**
 * Builds the portal with `next build` unless the build is newer than every input. Suites share the
 * build folder: when another suite is building it right now, wait for that build (bounded) and use it.
 */
export function ensurePortalBuild(distDir: string = DIST_DIR): void {
  const deadline = Date.now() + 540_000;
  for (;;) {
    if (buildIsFresh(distDir)) return;
    const out = spawnSync(process.execPath, [NEXT_BIN, 'build'], {
      cwd: PORTAL_DIR,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', DCP_EMU_PORTAL_DIST_DIR: distDir },
      encoding: 'utf8',
      timeout: Math.max(1_000, deadline - Date.now()),
    });
    if (out.status === 0) return;
    const busy = /Another next build process is already running/.test(`${out.stdout}${out.stderr}`);
    if (!busy || Date.now() > deadline)
      throw new Error(`next build failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000);
  }
}

export interface RunningPortal {
  url: string;
  dataDir: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * The portal's own server (`apps/portal/server.ts`: Next.js plus the `/api/live` WebSocket, as `npm
 * start` runs it) on this suite's build, a free loopback port and its own data dir (SQLite); ready
 * when /api/ready says ok. `env` adds settings (e.g. the scheduler and bank URLs).
 */
export async function startPortal(
  env: Record<string, string> = {},
  distDir: string = DIST_DIR,
): Promise<RunningPortal> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-portal-'));
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(PORTAL_DIR, 'server.ts')],
    {
      cwd: PORTAL_DIR,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        DCP_EMU_PORTAL_DIST_DIR: distDir,
        DCP_EMU_HOST: '127.0.0.1',
        DCP_EMU_PORTAL_PORT: String(port),
        DCP_EMU_DATA_DIR: dataDir,
        DCP_EMU_DATABASE_URL: `file:${join(dataDir, 'portal.sqlite')}`,
        DCP_EMU_PORTAL_PASSWORD_LOG2N: '12',
        DCP_EMU_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/api/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`portal not ready within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dataDir,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
