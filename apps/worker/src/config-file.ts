import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { z } from 'zod';
import { FACILITIES } from './logging/syslog';

/**
 * dcp-emu-worker's configuration file, in the shape of dcp-worker's `etc/dcp-worker-config.js`
 * (a JavaScript object literal, or a script that sets `dcpConfig.…`, or JSON):
 *
 *   {
 *     scheduler: { location: new URL('https://scheduler.example/') },
 *     evaluator: { location: new URL('dcpsaw://localhost:9000/') },
 *     worker: { cores: { cpu: 4 }, utilization: { cpu: 0.5 }, paymentAddress: '0x…',
 *               computeGroups: [{ joinKey: 'k', joinSecret: 's' }], allowOrigins: { any: [] },
 *               minimumWage: { CPU: 0 }, output: { mode: 'syslog', syslog: { address: 'loghost' } } },
 *     evaluatorManager: { maxLoad: 2, loadavgType: 'short', idleTimeout: 30 },
 *   }
 *
 * Files read, later ones winning: `$DCP_ETCDIR|/etc` `/dcp/dcp-emu-worker/dcp-config.{js,json}`,
 * `$DCP_HOMEDIR|~` `/.dcp/dcp-emu-worker/dcp-config.{js,json}`, then `--config FILE` (or
 * `DCP_EMU_WORKER_CONFIG`). Precedence of the whole: defaults < config files < environment < flags.
 */

const url = z.union([z.instanceof(URL), z.string()]).transform((v, ctx) => {
  try {
    return new URL(String(v));
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: ${String(v)}` });
    return z.NEVER;
  }
});
const num = z.number().finite();
const pos = z.number().finite().positive();
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x address');
const origins = z.array(z.string()).optional();

const group = z.union([
  z.strictObject({ joinKey: z.string().min(1), joinSecret: z.string() }),
  z.strictObject({ joinKey: z.string().min(1), joinHash: z.string().regex(/^eh1-[0-9a-f]{64}$/) }),
]);

export const outputSchema = z.strictObject({
  mode: z.enum(['detect', 'console', 'dashboard', 'syslog', 'logfile']).optional(),
  logfile: z.string().min(1).optional(),
  syslog: z
    .strictObject({
      address: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      facility: z.enum(Object.keys(FACILITIES) as [keyof typeof FACILITIES]).optional(),
      format: z.enum(['rfc5424', 'rfc3164']).optional(),
      transport: z.literal('udp').optional(),
    })
    .optional(),
});

export const evaluatorManagerSchema = z.strictObject({
  /** port the manager listens on (what workers connect to) */
  listen: z.number().int().min(0).max(65535).optional(),
  /** the evaluator it hands connections to, `host:port` */
  evaluator: z.string().optional(),
  /** refuse new sandboxes above this load average (undefined: no load limit) */
  maxLoad: pos.optional(),
  loadavgType: z.enum(['short', 'medium', 'long']).optional(),
  /** seconds: a terminal touched more recently than this is an active session */
  idleTimeout: pos.optional(),
  /** seconds between checks */
  idlePoll: pos.optional(),
  /** seconds between two accepted connections */
  rate: z.number().finite().min(0).optional(),
  /** monitors to switch off */
  disable: z.array(z.enum(['session', 'load', 'signal'])).optional(),
  /** what to do with running sandboxes when the machine becomes busy: kill them (dcp-worker) or keep them */
  killOnBusy: z.boolean().optional(),
  pts: z.string().optional(),
});

export const workerFileSchema = z.strictObject({
  utilization: z.strictObject({ cpu: pos.optional(), gpu: num.optional() }).optional(),
  cores: z.strictObject({ cpu: pos.optional(), gpu: num.optional() }).optional(),
  maxSandboxes: z.number().int().positive().optional(),
  paymentAddress: address.optional(),
  allowOrigins: z
    .strictObject({
      any: origins,
      fetchWorkFunctions: origins,
      fetchArguments: origins,
      fetchData: origins,
      sendResults: origins,
    })
    .optional(),
  strictOrigins: z.boolean().optional(),
  minimumWage: z
    .strictObject({ CPU: num.optional(), GPU: num.optional(), in: num.optional(), out: num.optional() })
    .optional(),
  computeGroups: z.array(group).optional(),
  leavePublicGroup: z.boolean().optional(),
  jobAddresses: z.array(z.string()).optional(),
  /** ms between idle polls */
  watchdogInterval: z.number().int().positive().optional(),
  /** s after a stop signal before a forced exit */
  cleanupTimeout: pos.optional(),
  pidFile: z.string().min(1).optional(),
  /** s between status reports in console/logfile/syslog output */
  reportInterval: pos.optional(),
  output: outputSchema.optional(),
  identityKeystore: z.string().min(1).optional(),
  // dcp-worker settings we accept and do not use
  bannedGPUs: z.unknown().optional(),
  trustComputeGroupOrigins: z.unknown().optional(),
});

export const fileConfigSchema = z.strictObject({
  scheduler: z.strictObject({ location: url.optional() }).optional(),
  evaluator: z.strictObject({ location: url.optional(), listen: url.optional() }).optional(),
  worker: workerFileSchema.optional(),
  evaluatorManager: evaluatorManagerSchema.optional(),
  cookie: z.unknown().optional(),
});

export type FileConfig = z.infer<typeof fileConfigSchema>;

export class ConfigFileError extends Error {}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** Leaf merge as dcp-client's: objects merge key by key, anything else (arrays, URLs) is replaced; undefined leaves nothing. */
export function leafMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = leafMerge(base[k], v);
  return out;
}

/** Refuses a file that anyone may change: world-writable itself or in a world-writable, non-sticky folder. */
function checkPermissions(file: string, env: NodeJS.ProcessEnv): void {
  if (env.DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION || process.platform === 'win32') return;
  if (statSync(file).mode & 0o002) throw new ConfigFileError(`${file} is world-writable; not reading it`);
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if (mode & 0o002 && !(mode & 0o1000))
      throw new ConfigFileError(`${file} is in a world-writable folder (${dir}); not reading it`);
    if (dirname(dir) === dir) break;
  }
}

/**
 * Reads one config file. `.json` is JSON; anything else is JavaScript evaluated with `dcpConfig`
 * (the configuration so far, so `dcpConfig.scheduler.location.origin` works as in dcp-worker's
 * file), `URL`, `env` and a `require` relative to the file: an object literal is the config; a script
 * sets properties of `dcpConfig`.
 */
export function readConfigFile(
  file: string,
  sofar: FileConfig,
  env: NodeJS.ProcessEnv = process.env,
): FileConfig {
  const path = resolve(file);
  let code: string;
  try {
    code = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigFileError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  checkPermissions(path, env);
  let value: unknown;
  try {
    if (path.endsWith('.json')) value = JSON.parse(code);
    else {
      const dcpConfig = structuredCloneWithUrls(sofar);
      const sandbox = { dcpConfig, URL, env, require: createRequire(path), console };
      const stripped = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      // an object literal is the config; a script's config is what it leaves in dcpConfig
      const options = { filename: path, timeout: 5_000 };
      if (/^\s*{/.test(stripped)) value = plain(runInNewContext(`(${code}\n)`, sandbox, options));
      else {
        runInNewContext(code, sandbox, options);
        value = plain(sandbox.dcpConfig);
      }
    }
  } catch (e) {
    throw new ConfigFileError(`config file ${path}: ${(e as Error).message}`);
  }
  const parsed = fileConfigSchema.safeParse(value);
  if (!parsed.success)
    throw new ConfigFileError(
      `config file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Objects from the file's own realm become plain objects of ours (URLs kept as URLs). */
function plain(v: unknown): unknown {
  if (v instanceof URL) return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    if (typeof (v as { href?: unknown }).href === 'string' && String(v.constructor?.name) === 'URL')
      return new URL((v as { href: string }).href);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

function structuredCloneWithUrls<T>(v: T): T {
  return plain(v) as T;
}

/** The files read by default, lowest precedence first (those that exist). */
export function defaultConfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const etc = env.DCP_ETCDIR ?? '/etc';
  const home = env.DCP_HOMEDIR ?? homedir();
  const candidates = [join(etc, 'dcp', 'dcp-emu-worker'), join(home, '.dcp', 'dcp-emu-worker')];
  const out: string[] = [];
  for (const dir of candidates)
    for (const ext of ['.json', '.js']) {
      const f = join(dir, `dcp-config${ext}`);
      if (existsSync(f)) {
        out.push(f);
        break;
      }
    }
  return out;
}

/**
 * The configuration files merged: the default locations, then `explicit` (`--config`, else
 * `DCP_EMU_WORKER_CONFIG`), which must exist. `seed` (e.g. the scheduler location from the
 * environment and flags) is what a file sees as `dcpConfig` before anything is read.
 */
export function loadConfigFiles(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  seed: FileConfig = {},
): { config: FileConfig; files: string[] } {
  const files = defaultConfigFiles(env);
  const wanted = explicit ?? env.DCP_EMU_WORKER_CONFIG;
  if (wanted) {
    if (!existsSync(wanted)) throw new ConfigFileError(`config file ${wanted} does not exist`);
    files.push(wanted);
  }
  let config: FileConfig = {};
  for (const file of files) {
    const visible = leafMerge(seed, config) as FileConfig;
    config = leafMerge(config, readConfigFile(file, visible, env)) as FileConfig;
  }
  return { config, files };
}
