import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  watchFile,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { restoreState, saveState, stateOwners } from './admin';
import { describeFault, type Fault } from './faults-client';
import { prettyText } from './log-format';
import { balanceOf } from './bank-client';
import { DCP_LOGIN_PRELOAD, evaluatorEnv } from './dcp-login';
import { adminTokenFile, dcpEnv, exportLines, runningStack, type StackInfo } from './stack-file';
import { confirm, destructiveResetNotice } from './reset-confirm';
import { hasSnapshotCopy, readDevSettings, resetStack } from './seeding';

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(`dcp-emu: ${text}\n`);

function stackOr(dataDir: string): StackInfo | undefined {
  const info = runningStack(dataDir);
  if (typeof info === 'string') {
    err(info);
    return undefined;
  }
  return info;
}

/** `dcp-emu env`: the export lines for the running stack. */
export function envCommand(dataDir: string): number {
  const info = stackOr(dataDir);
  if (!info) return 1;
  out(exportLines(dcpEnv(info)));
  return 0;
}

/** `dcp-emu run prog.js args…`: node with the stack's DCP environment; exits with the program's code. */
export function runCommand(dataDir: string, program: string, args: string[]): Promise<number> {
  const info = stackOr(dataDir);
  if (!info) return Promise.resolve(1);
  const file = resolve(program);
  if (!existsSync(file)) {
    err(`no such program: ${program}`);
    return Promise.resolve(1);
  }
  return new Promise((res) => {
    // the preload logs dcp-client 5.x in with the default identity (localExec, dcp/worker need it)
    const child = spawn(process.execPath, ['--require', DCP_LOGIN_PRELOAD, file, ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...dcpEnv(info), ...evaluatorEnv(info) },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    child.once('error', (e) => {
      err(e.message);
      res(1);
    });
    child.once('exit', (code, signal) => res(code ?? (signal ? 128 + 2 : 1)));
  });
}

async function getJson<T>(url: string, adminToken?: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(3000),
      ...(adminToken ? { headers: { authorization: `Bearer ${adminToken}` } } : {}),
    });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

export interface StatusReport {
  dataDir: string;
  pid: number;
  services: {
    name: string;
    url: string;
    /** `serve`: where other machines reach it */
    publicUrl?: string;
    up: boolean;
    pid?: number;
    state?: string;
    restarts?: number;
    lastExit?: string;
    blockedBy?: string;
  }[];
  worker?: { state?: string; sandboxes?: number; slicesCompleted?: number };
  leasedSlicesByWorker: Record<string, number>;
  jobs: Record<string, number>;
  accounts: { index: number; address: string; balance: string }[];
  /** injected faults (`dcp-emu fault`), active and spent */
  faults?: Fault[];
}

export async function statusReport(info: StackInfo): Promise<StatusReport> {
  const services = await Promise.all(
    Object.entries(info.urls).map(async ([name, url]) => {
      const ready = await fetch(new URL(name === 'portal' ? 'api/ready' : 'readyz', url), {
        signal: AbortSignal.timeout(3000),
      }).then(
        (r) => r.ok,
        () => false,
      );
      const publicUrl = info.publicUrls?.[name];
      return {
        name,
        url,
        ...(publicUrl ? { publicUrl } : {}),
        up: ready,
        ...(info.processes?.[name] ?? {}),
      };
    }),
  );
  const report: StatusReport = {
    dataDir: info.dataDir,
    pid: info.pid,
    services,
    leasedSlicesByWorker: {},
    jobs: {},
    accounts: [],
  };
  if (info.urls.worker) {
    const h = await getJson<{
      supervisor?: { state?: string; sandboxes?: number; slicesCompleted?: number };
    }>(new URL('healthz', info.urls.worker).href);
    if (h?.supervisor) report.worker = h.supervisor;
  }
  if (info.urls.scheduler) {
    const w = await getJson<{ workers: { worker: string; slices: unknown[] }[] }>(
      new URL('api/workers', info.urls.scheduler).href,
    );
    for (const x of w?.workers ?? []) report.leasedSlicesByWorker[x.worker] = x.slices.length;
    // every job's status: the admin's read once the scheduler listens beyond loopback
    let token: string | undefined;
    try {
      token = readFileSync(adminTokenFile(info.dataDir), 'utf8').trim();
    } catch {
      token = undefined;
    }
    const j = await getJson<{ jobs: { status: string }[] }>(
      new URL('api/jobs?limit=1000', info.urls.scheduler).href,
      token,
    );
    for (const job of j?.jobs ?? []) report.jobs[job.status] = (report.jobs[job.status] ?? 0) + 1;
    const f = await getJson<{ faults: Fault[] }>(new URL('api/faults', info.urls.scheduler).href);
    if (f) report.faults = f.faults;
  }
  if (info.urls.bank) {
    const bank = info.urls.bank;
    report.accounts = await Promise.all(
      readDevSettings(info.dataDir).accounts.map(async (a) => ({
        index: a.index,
        address: a.address,
        balance: await balanceOf(bank, a.address).catch(() => '?'),
      })),
    );
  }
  return report;
}

/** `dcp-emu status`: services, workers, jobs by status, dev balances. */
export async function statusCommand(dataDir: string, json: boolean): Promise<number> {
  const info = stackOr(dataDir);
  if (!info) return 1;
  const r = await statusReport(info);
  if (json) {
    out(`${JSON.stringify(r, null, 2)}\n`);
    return r.services.every((s) => s.up) ? 0 : 1;
  }
  const lines = [`stack pid ${r.pid}, data in ${r.dataDir}`, '', 'services:'];
  for (const s of r.services) {
    const proc = [
      s.pid ? `pid ${s.pid}` : '',
      s.state && s.state !== 'running' ? s.state : '',
      s.restarts ? `restarted ${s.restarts}x (last exit ${s.lastExit ?? '?'})` : '',
      s.blockedBy ?? '',
    ].filter(Boolean);
    lines.push(
      `  ${s.name.padEnd(10)} ${s.up ? 'up  ' : 'DOWN'}  ${s.publicUrl ?? s.url}${s.publicUrl && s.publicUrl !== s.url ? `  (listening on ${s.url})` : ''}${proc.length ? `  ${proc.join(', ')}` : ''}`,
    );
  }
  if (r.worker)
    lines.push(
      '',
      `worker: ${r.worker.state ?? '?'}, ${r.worker.sandboxes ?? '?'} sandboxes, ${r.worker.slicesCompleted ?? 0} slices done`,
    );
  const leased = Object.entries(r.leasedSlicesByWorker);
  lines.push(
    `workers (slices held): ${leased.length ? leased.map(([w, n]) => `${w} (${n})`).join(', ') : 'none'}`,
  );
  const jobs = Object.entries(r.jobs);
  lines.push(
    '',
    `jobs: ${jobs.length ? jobs.map(([s, n]) => `${s} ${n}`).join(', ') : 'none'}`,
    '',
    'dev accounts:',
  );
  for (const a of r.accounts) lines.push(`  (${a.index}) ${a.address}  ${a.balance} DCC`);
  if (r.faults?.length)
    lines.push('', 'faults (dcp-emu fault clear):', ...r.faults.map((f) => `  ${describeFault(f)}`));
  out(`${lines.join('\n')}\n`);
  return r.services.every((s) => s.up) ? 0 : 1;
}

function lastLines(file: string, n: number): { text: string; size: number } {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return {
    text: lines.slice(Math.max(0, lines.length - n)).join('\n') + (lines.length && n ? '\n' : ''),
    size: Buffer.byteLength(text),
  };
}

/** `dcp-emu logs [service] [-f]`: the last lines of the service logs; -f keeps printing new ones. */
export async function logsCommand(
  dataDir: string,
  service: string | undefined,
  follow: boolean,
  lines: number,
  json = false,
): Promise<number> {
  const dir = join(dataDir, 'logs');
  const names = service
    ? [service]
    : existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.log'))
          .map((f) => f.slice(0, -4))
          .sort()
      : [];
  const files = names.map((n) => ({ name: n, file: join(dir, `${n}.log`) }));
  const present = files.filter((f) => existsSync(f.file));
  if (!present.length) {
    err(`no logs in ${dir}${service ? ` for ${service}` : ''}`);
    return 1;
  }
  // raw JSON (--json) keeps the file's own lines, prefixed by the service when several are shown;
  // the readable form names the service on every line itself
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const prefix = (name: string, text: string) =>
    !json
      ? prettyText(text, { service: name, color })
      : present.length > 1
        ? text.replace(/^(?=.)/gm, `${name.padEnd(9)}| `)
        : text;
  const partial = new Map<string, string>();
  const offsets = new Map<string, number>();
  for (const f of present) {
    const { text, size } = lastLines(f.file, lines);
    out(prefix(f.name, text));
    offsets.set(f.file, size);
  }
  if (!follow) return 0;
  return new Promise<number>(() => {
    for (const f of present) {
      watchFile(f.file, { interval: 200 }, (cur) => {
        let from = offsets.get(f.file) ?? 0;
        if (cur.size < from) from = 0;
        if (cur.size === from) return;
        const fd = openSync(f.file, 'r');
        try {
          const buf = Buffer.alloc(cur.size - from);
          readSync(fd, buf, 0, buf.length, from);
          // whole lines only: a line being written is printed once it ends
          const text = (partial.get(f.file) ?? '') + buf.toString('utf8');
          const end = text.lastIndexOf('\n') + 1;
          partial.set(f.file, text.slice(end));
          if (end) out(prefix(f.name, text.slice(0, end)));
        } finally {
          closeSync(fd);
        }
        offsets.set(f.file, cur.size);
      });
    }
  });
}

/** `dcp-emu reset`: back to the seeded state. */
export async function resetCommand(dataDir: string, yes = false): Promise<number> {
  const info = stackOr(dataDir);
  if (!info) return 1;
  const notice = destructiveResetNotice(await stateOwners(info));
  if (notice) {
    process.stderr.write(`${notice}\n`);
    if (!yes && !(await confirm('Delete all of this?'))) {
      err('reset cancelled (nothing deleted); pass --yes to reset without asking');
      return 1;
    }
  }
  const started = process.hrtime.bigint();
  const s = readDevSettings(dataDir);
  await resetStack(info, s.accounts, s.fund);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  out(`reset to the seeded state in ${ms.toFixed(0)} ms\n`);
  return 0;
}

function snapshotNames(dataDir: string): { name: string; time: Date }[] {
  const dir = join(dataDir, 'snapshots');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(dir, d.name)).some((f) => !f.endsWith('.tmp')))
    .map((d) => ({ name: d.name, time: statSync(join(dir, d.name)).mtime }))
    .sort((a, b) => a.time.getTime() - b.time.getTime());
}

/** `dcp-emu snapshot save|restore NAME`, `snapshot list`. */
export async function snapshotCommand(
  dataDir: string,
  action: 'save' | 'restore' | 'list',
  name?: string,
): Promise<number> {
  if (action === 'list') {
    const list = snapshotNames(dataDir);
    if (!list.length) out('no snapshots\n');
    for (const s of list)
      out(
        `${s.name.padEnd(24)} ${s.time.toISOString()}${s.name === '@seed' ? '  (the seeded state; reset)' : ''}\n`,
      );
    return 0;
  }
  const info = stackOr(dataDir);
  if (!info || !name) return 1;
  const started = Date.now();
  const owners = await stateOwners(info);
  if (owners.some((o) => !o.state.snapshots)) {
    err('snapshots need the embedded SQLite database; with PostgreSQL use reset (or pg_dump)');
    return 1;
  }
  if (action === 'restore') {
    // all or none: refuse before any service replaces its state
    const missing = owners.filter((o) => !hasSnapshotCopy(dataDir, name, o.state)).map((o) => o.service);
    if (missing.length) {
      err(
        existsSync(join(dataDir, 'snapshots', name))
          ? `snapshot ${name} has no copy of the ${missing.join(', ')} database (saved by another stack layout); nothing restored`
          : `no snapshot ${name} (dcp-emu snapshot list)`,
      );
      return 1;
    }
  }
  // each service saves (restores) its own database, side by side
  await Promise.all(
    owners.map(({ service }) =>
      action === 'save' ? saveState(info, service, name) : restoreState(info, service, name),
    ),
  );
  out(`snapshot ${name} ${action === 'save' ? 'saved' : 'restored'} in ${Date.now() - started} ms\n`);
  return 0;
}
