import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** What `up` records in `<dataDir>/stack.json` so the other commands find the running stack. */
export const stackInfoSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  dataDir: z.string(),
  databaseUrl: z.string().optional(),
  resourceDir: z.string(),
  homeDir: z.string(),
  /** base URL (trailing slash) of every started service */
  urls: z.record(z.string(), z.string()),
  /** `dcp-emu serve`: where other machines reach the services (`--public-url` & co.) */
  publicUrls: z.record(z.string(), z.string()).optional(),
  /** where the worker's evaluator listens (DCP's evaluator line protocol, not HTTP) */
  evaluator: z.string().optional(),
  /** each service process as `up` supervises it: pid, restarts after unexpected exits, state */
  processes: z
    .record(
      z.string(),
      z.object({
        pid: z.number().int().optional(),
        state: z.enum(['starting', 'running', 'restarting', 'blocked', 'stopped']),
        restarts: z.number().int().nonnegative(),
        lastExit: z.string().optional(),
        /** why it cannot start (a port held by another process) */
        blockedBy: z.string().optional(),
      }),
    )
    .optional(),
});
export type ProcessInfo = NonNullable<StackInfo['processes']>[string];
export type StackInfo = z.infer<typeof stackInfoSchema>;

export const stackFile = (dataDir: string) => join(dataDir, 'stack.json');
export const adminTokenFile = (dataDir: string) => join(dataDir, 'admin.token');

export function writeStackInfo(info: StackInfo): void {
  mkdirSync(info.dataDir, { recursive: true });
  const file = stackFile(info.dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeStackInfo(dataDir: string, pid: number): void {
  const info = readStackInfo(dataDir);
  if (info?.pid === pid) rmSync(stackFile(dataDir), { force: true });
}

/** The recorded stack, or undefined when none was recorded (or the file is unreadable). */
export function readStackInfo(dataDir: string): StackInfo | undefined {
  try {
    return stackInfoSchema.parse(JSON.parse(readFileSync(stackFile(dataDir), 'utf8')));
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running stack of `dataDir`, or an error message that says how to start one. */
export function runningStack(dataDir: string): StackInfo | string {
  const info = readStackInfo(dataDir);
  const start = `start one with \`dcp-emu up\`${dataDir ? ` (data dir ${dataDir})` : ''}`;
  if (!info) return `no dcp-emu stack is running: ${start}`;
  if (!processAlive(info.pid)) return `the dcp-emu stack (pid ${info.pid}) is not running any more: ${start}`;
  return info;
}

/**
 * The environment that makes unmodified DCP programs use the emulator and its dev keys:
 * dcp-client 5.x reads `DCP_SCHEDULER_LOCATION` and `DCP_RESOURCE_DIR`; dcp-client 4.x (inside
 * dcp-worker and dcp-util) reads the same two, plus `DCP_HOMEDIR` for `$DCP_HOMEDIR/.dcp/dcp-config.js`
 * and the identity cache, so nothing under the real `~/.dcp` is read or written.
 * A `serve` stack has no dev keys: its environment is the public scheduler URL alone (programs use
 * their own keystores).
 */
export function dcpEnv(
  info: Pick<StackInfo, 'urls' | 'resourceDir' | 'homeDir' | 'publicUrls'>,
): Record<string, string> {
  const pub = info.publicUrls?.scheduler;
  if (pub) return { DCP_SCHEDULER_LOCATION: pub };
  const scheduler = info.urls.scheduler;
  if (!scheduler) throw new Error('the stack has no scheduler');
  return {
    DCP_SCHEDULER_LOCATION: scheduler,
    DCP_RESOURCE_DIR: info.resourceDir,
    DCP_HOMEDIR: info.homeDir,
  };
}

const shellQuote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** `export NAME=value` lines, quoted for POSIX shells. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');
}
