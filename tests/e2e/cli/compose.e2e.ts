/**
 * docker-compose.yml's commands, run as plain processes: each service's command (and entrypoint),
 * environment (the compose file's `${VAR:-default}` / `${VAR:?error}` resolved from
 * docker/compose.env.example, on top of the image's ENV from docker/Dockerfile) and working dir, in
 * depends_on order, each waited for by its own healthcheck command. What a container provides is
 * replaced, and only that: the image's /app is this checkout, a service name (scheduler, bank, …) is
 * 127.0.0.1, each service's fixed port (7430…7434) is a free one (set for every process through the
 * DCP_EMU_*_PORT variables the services read), the data volumes are temp dirs, and the postgres
 * service is the test run's throw-away server (the compose file's database URL must name that
 * service with its user, password and database). A broken command or variable in the compose file
 * fails this test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cleanup, freePort, freshDatabase, type TestDatabase, tempDir } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../..');
const SERVICE_PORTS: Record<string, number> = { scheduler: 7430, bank: 7431, portal: 7432, worker: 7433 };
const EVALUATOR_PORT = 7434;

interface ComposeService {
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  working_dir?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; interval?: string; retries?: number };
  image?: string;
}

/** KEY=VALUE lines (comments and blank lines skipped), as docker compose reads `.env`. */
function dotenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1] as string] = (m[2] as string).trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (all, name, colon, op, arg) => {
      if (all === '$$') return '$';
      const v = vars[name as string];
      const unset = v === undefined || (colon === ':' && v === '');
      if (op === '-') return unset ? (arg as string) : (v as string);
      if (op === '?') {
        if (unset) throw new Error(`compose: ${name as string}: ${arg as string}`);
        return v as string;
      }
      if (v === undefined)
        throw new Error(`compose: ${name as string} is not set (docker compose would use "")`);
      return v;
    },
  );
}

/** The ENV of the Dockerfile's last stage (the image every service runs). */
function imageEnv(dockerfile: string): Record<string, string> {
  const last = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  const joined = last.replace(/\\\n/g, ' ');
  for (const m of joined.matchAll(/^ENV\s+(.+)$/gm))
    for (const kv of (m[1] as string).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g))
      env[kv[1] as string] = (kv[2] as string).replace(/^"(.*)"$/, '$1');
  return env;
}

const envOf = (e: ComposeService['environment']): Record<string, string> =>
  Array.isArray(e)
    ? Object.fromEntries(e.map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]))
    : Object.fromEntries(Object.entries(e ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));

const argv = (v: string[] | string | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : ['sh', '-c', v];

const seconds = (d: string | undefined, fallback: number) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(d ?? '');
  if (!m) return fallback;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
};

interface Plan {
  services: Record<string, ComposeService>;
  order: string[];
}

/** The compose file with its variables resolved, and its services in depends_on order. */
function loadCompose(composeText: string, vars: Record<string, string>): Plan {
  const doc = parse(interpolate(composeText, vars), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const order: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (order.includes(name)) return;
    if (path.includes(name)) throw new Error(`compose: depends_on cycle ${[...path, name].join(' → ')}`);
    const s = doc.services[name];
    if (!s) throw new Error(`compose: ${path.at(-1)} depends on unknown service ${name}`);
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) visit(d, [...path, name]);
    order.push(name);
  };
  for (const name of Object.keys(doc.services)) visit(name, []);
  return { services: doc.services, order };
}

interface Running {
  name: string;
  child: ChildProcess;
  out: string;
  exit?: string;
}

class ComposeRun {
  readonly procs: Running[] = [];
  readonly dirs: string[] = [];
  readonly ports: Record<number, number> = {};
  constructor(
    private readonly plan: Plan,
    private readonly image: Record<string, string>,
    private readonly databaseUrl: string,
  ) {}

  /** A container's view of hosts and ports, mapped onto this machine. */
  private local(text: string): string {
    let t = text.replace(/\b(\d{4})\b/g, (p) => String(this.ports[Number(p)] ?? p));
    const names = Object.keys(this.plan.services).join('|');
    t = t.replace(new RegExp(`(//|@)(${names})(?=[:/])`, 'g'), '$1127.0.0.1');
    return t.replace(/(^|[\s"'=])\/app(?=\/|$)/g, `$1${ROOT}`);
  }

  async start(): Promise<void> {
    for (const p of [...Object.values(SERVICE_PORTS), EVALUATOR_PORT]) this.ports[p] = await freePort();
    const portEnv = {
      DCP_EMU_SCHEDULER_PORT: String(this.ports[SERVICE_PORTS.scheduler as number]),
      DCP_EMU_BANK_PORT: String(this.ports[SERVICE_PORTS.bank as number]),
      DCP_EMU_PORTAL_PORT: String(this.ports[SERVICE_PORTS.portal as number]),
      DCP_EMU_WORKER_PORT: String(this.ports[SERVICE_PORTS.worker as number]),
      DCP_EMU_EVALUATOR_PORT: String(this.ports[EVALUATOR_PORT]),
    };
    for (const name of this.plan.order) {
      const s = this.plan.services[name] as ComposeService;
      if (name === 'postgres') {
        this.checkDatabase(s);
        continue;
      }
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...this.image, ...envOf(s.environment) })) env[k] = this.local(v);
      const pg = envOf(this.plan.services.postgres?.environment);
      if (pg.POSTGRES_DB) {
        for (const [k, v] of Object.entries(envOf(s.environment)))
          if (/^postgres(ql)?:\/\//.test(v)) env[k] = this.databaseUrl;
      }
      const data = tempDir(`dcp-emu-compose-${name}-`);
      this.dirs.push(data);
      if (env.DCP_EMU_DATA_DIR) env.DCP_EMU_DATA_DIR = data;
      const cmd = [...argv(s.entrypoint), ...argv(s.command)].map((a) => this.local(a));
      expect(cmd.length, `${name} has no command`).toBeGreaterThan(0);
      const [file, ...args] = cmd;
      const cwd = s.working_dir ? this.local(s.working_dir) : ROOT;
      mkdirSync(cwd, { recursive: true });
      const child = spawn(file === 'node' ? process.execPath : (file as string), args, {
        cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: data, ...env, ...portEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const r: Running = { name, child, out: '' };
      child.stdout?.on('data', (d) => {
        r.out = (r.out + d).slice(-20_000);
      });
      child.stderr?.on('data', (d) => {
        r.out = (r.out + d).slice(-20_000);
      });
      child.once('exit', (code, signal) => {
        r.exit = signal ?? String(code);
      });
      child.once('error', (e) => {
        r.exit = e.message;
      });
      this.procs.push(r);
      await this.healthy(r, s);
    }
  }

  /** The compose file's database URL names the postgres service with its own user, password and db. */
  private checkDatabase(s: ComposeService): void {
    const pg = envOf(s.environment);
    const urls = Object.values(this.plan.services)
      .flatMap((x) => Object.values(envOf(x.environment)))
      .filter((v) => /^postgres(ql)?:\/\//.test(v));
    expect(urls.length).toBeGreaterThan(0);
    for (const u of new Set(urls)) {
      const url = new URL(u);
      expect(url.hostname).toBe('postgres');
      expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
    }
  }

  /** Runs the service's healthcheck until it passes; fails when the service exits first. */
  private async healthy(r: Running, s: ComposeService): Promise<void> {
    const test = s.healthcheck?.test;
    expect(test, `${r.name} has no healthcheck`).toBeDefined();
    const t = Array.isArray(test) ? test : ['CMD-SHELL', test as string];
    const kind = t[0];
    const cmd =
      kind === 'CMD-SHELL'
        ? ['sh', '-c', this.local(t.slice(1).join(' '))]
        : kind === 'CMD'
          ? t.slice(1).map((a) => this.local(a))
          : t.map((a) => this.local(a));
    const interval = seconds(s.healthcheck?.interval, 5) * 1000;
    // compose's retries × interval, but a busy machine only makes it slower: at least 4 minutes
    const deadline = Date.now() + Math.max((s.healthcheck?.retries ?? 3) * interval, 240_000);
    let last = '';
    for (;;) {
      if (r.exit !== undefined)
        throw new Error(`${r.name} exited (${r.exit}) before it was healthy:\n${r.out.slice(-4000)}`);
      const res = await new Promise<{ ok: boolean; text: string }>((done) =>
        execFile(
          cmd[0] === 'node' ? process.execPath : (cmd[0] as string),
          cmd.slice(1),
          { timeout: 60_000, cwd: ROOT },
          (e, so, se) => done({ ok: !e, text: `${so}${se}${e ? ` (${e.message})` : ''}` }),
        ),
      );
      if (res.ok) return;
      last = res.text;
      if (Date.now() > deadline)
        throw new Error(`${r.name} not healthy in time (last check: ${last}):\n${r.out.slice(-4000)}`);
      await new Promise((w) => setTimeout(w, interval));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.reverse().map(async (r) => {
        if (r.exit !== undefined || !r.child.pid) return;
        const gone = new Promise((w) => r.child.once('exit', w));
        process.kill(-r.child.pid, 'SIGTERM');
        const t = setTimeout(() => r.child.pid && process.kill(-r.child.pid, 'SIGKILL'), 30_000);
        await gone;
        clearTimeout(t);
      }),
    );
    cleanup(...this.dirs);
  }
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const vars = dotenv(readFileSync(join(ROOT, 'docker/compose.env.example'), 'utf8'));
// the example's public address is a documentation one (192.0.2.x): here, the published address
for (const k of ['DCP_EMU_PUBLIC_URL', 'DCP_EMU_PUBLIC_BANK_URL'])
  if (vars[k])
    vars[k] = (vars[k] as string).replace(/\/\/192\.0\.2\.\d+/, `//${vars.DCP_EMU_PUBLISH_ADDRESS}`);
const image = imageEnv(readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8'));

describe('docker-compose.yml: interpolation', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own syntax
  it('resolves ${VAR:-default}, ${VAR:?error} and $$ as compose does; a required variable missing fails', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own syntax
    expect(interpolate('a ${X:-d} ${Y:-d} ${Z-e} $$HOME', { X: 'x', Y: '', Z: '' })).toBe('a x d  $HOME');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own syntax
    expect(() => interpolate('${P:?set P in .env}', {})).toThrow(/P: set P in .env/);
    expect(() => loadCompose(composeText, { ...vars, POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/);
    const plan = loadCompose(composeText, vars);
    expect(plan.order.indexOf('postgres')).toBeLessThan(plan.order.indexOf('scheduler'));
    expect(plan.order.indexOf('scheduler')).toBeLessThan(plan.order.indexOf('bank'));
    expect(image.NODE_ENV).toBe('production');
  });
});

describe('docker-compose.yml: every service command as a plain process on PostgreSQL', () => {
  let db: TestDatabase;
  let run: ComposeRun | undefined;

  beforeAll(async () => {
    db = await freshDatabase('postgresql', inject('pgUrl'));
  });

  afterAll(async () => {
    await run?.stop();
    await db?.drop();
  }, 120_000);

  it('a broken command fails the run, naming the service', async () => {
    const broken = composeText.replace('apps/scheduler/dist/main.js', 'apps/scheduler/dist/no-such-main.js');
    expect(broken).not.toBe(composeText);
    const bad = new ComposeRun(loadCompose(broken, vars), image, db.url);
    await expect(bad.start()).rejects.toThrow(
      /scheduler exited \(1\) before it was healthy[\s\S]*no-such-main/,
    );
    await bad.stop();
  }, 120_000);

  it('starts each service by its command and environment; each passes its own healthcheck; the portal live socket answers', async () => {
    run = new ComposeRun(loadCompose(composeText, vars), image, db.url);
    await run.start();
    expect(run.procs.map((p) => p.name).sort()).toEqual(['bank', 'portal', 'scheduler', 'worker']);
    const port = (p: number) => run?.ports[p] as number;
    // the served dcp-config names the public URLs of .env, never a compose-internal host
    const config = await (await fetch(`http://127.0.0.1:${port(7430)}/etc/dcp-config.kvin`)).text();
    expect(config).toContain(`127.0.0.1:${port(7431)}/`);
    expect(config).not.toMatch(/\/\/(scheduler|bank|postgres|portal|worker)[:/]/);
    // the faucet is off (compose's production profile)
    const token = vars.DCP_EMU_ADMIN_TOKEN as string;
    const mint = await fetch(`http://127.0.0.1:${port(7431)}/api/faucet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ address: `0x${'1'.repeat(40)}`, amount: '1' }),
    });
    expect(mint.status).toBe(403);
    // the portal's /api/live WebSocket is served by its own server: without a session it answers
    // the upgrade with 401 (a plain Next.js server would not handle the upgrade at all)
    const status = await new Promise<number>((res, rej) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port(7432)}/api/live`);
      const timer = setTimeout(() => rej(new Error('no answer to the upgrade')), 60_000);
      ws.on('unexpected-response', (_req, r) => {
        clearTimeout(timer);
        res(r.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        clearTimeout(timer);
        ws.close();
        res(101);
      });
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    for (const p of run.procs) expect(p.exit, `${p.name}:\n${p.out.slice(-2000)}`).toBeUndefined();
  }, 600_000);
});
