/**
 * End-to-end figures of the whole stack, started as a user starts it (`dcp-emu up --no-portal`: scheduler,
 * bank, our worker with its isolated-vm evaluator; one sandbox per core), driven by the unmodified
 * dcp-client 5.6.1 through `dcp-emu run`. Per job of trivial slices (`x => { progress(); return x; }`):
 * slices/s, exec → first result, CPU ms per slice of each service (utime + stime from /proc of the
 * service process and its children) and each service's peak RSS (VmHWM); once per run this machine's
 * native secp256k1 sign and recover rates and the ratio of the measured rate to that crypto floor.
 * Prints figures, asserts nothing; exits non-zero when a job fails or runs out of time.
 *
 *   npm run bench:e2e [-- --slices 1000,10000] [--input range|array|both] [--million]
 *                     [--database-url postgresql://…] [--timeout SECONDS] [--workers N]
 *
 * --slices       job sizes (default 1000,10000,100000), each a range job `compute.for(1, N, fn)`
 * --input        range, array (`compute.for([1…N], fn)`) or both (default); array jobs only up to
 *                --array-max slices (default 10000: an array job uploads every input)
 * --million      one 1,000,000-slice range job instead (every service's peak RSS is in its report)
 * --database-url run the stack on this database (`dcp-emu up --database-url`), e.g. PostgreSQL
 * --postgres     run the stack on a throw-away PostgreSQL server (packages/testing's startPostgres)
 * --keep-going   after a failed job (not a timeout), run the next one on the same stack
 * --timeout      seconds a job may take (default 120 + slices / 10, i.e. 10 slices/s at least)
 * --workers      worker sandboxes (default: the machine's cores, as `dcp-emu up`)
 * --floor-signs, --floor-recovers   the crypto floor's per-slice counts (default 3 and 3, see below)
 *
 * The crypto floor: the scheduler verifies every DCP message it receives (one secp256k1 public-key
 * recovery over the keccak of the message) and signs every message it sends. Per slice, unbatched, it
 * receives the worker's result submission and the worker's ack of its response, and the client's ack of
 * the result event (3 recoveries), and sends its ack of the submission, the response and the result event
 * to the client (3 signatures). One Node process does this on one core, so the scheduler cannot pass
 *   floor slices/s = 1 / (signs / signRate + recovers / recoverRate)
 * whatever else it does; "of floor" is measured slices/s ÷ that. (Batching several messages under one
 * signature lowers the per-slice counts; the figure says how far the hot path is from pure crypto.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cmdline,
  descendants,
  errorLinesOfFile,
  freePortBase,
  type PgServer,
  peakRssKb,
  processTable,
  readStat,
  startPostgres,
  treeCpuMs,
} from '../../packages/testing/src/index';
import { Identity, nativeCrypto, recoverPersonal } from '../../packages/protocol/src/node';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const CLIENT = join(__dirname, 'client.cjs');
const SERVICES = ['scheduler', 'bank', 'worker', 'evaluator'] as const;
type Service = (typeof SERVICES)[number];

const { values: opts } = parseArgs({
  options: {
    slices: { type: 'string', default: '1000,10000,100000' },
    input: { type: 'string', default: 'both' },
    'array-max': { type: 'string', default: '10000' },
    million: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    postgres: { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
    timeout: { type: 'string' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'floor-signs': { type: 'string', default: '3' },
    'floor-recovers': { type: 'string', default: '3' },
  },
});

interface JobSpec {
  slices: number;
  input: 'range' | 'array';
}

interface Done {
  job: string;
  slices: number;
  results: number;
  resultEvents: number;
  duplicates: number;
  wrong: number;
  mismatched: number;
  start: number;
  accepted: number;
  first: number;
  last: number;
  done: number;
  cpuMs: number;
  peakRssKb: number;
}

interface JobReport {
  spec: JobSpec;
  ok: boolean;
  reached: number;
  seconds: number;
  done?: Done;
  cpuMsPerSlice: Partial<Record<Service | 'client', number>>;
  peakRssMb: Partial<Record<Service | 'client', number>>;
  /** exec → first result (ms), also when the job did not finish */
  firstMs?: number;
  /** timed out, or a service died: the stack is not fit for another job */
  stuck: boolean;
  /** error-level lines (pino level ≥ 50) in each service's log so far */
  errors: Partial<Record<'scheduler' | 'bank' | 'worker', string[]>>;
}

function jobs(): JobSpec[] {
  if (opts.million) return [{ slices: 1_000_000, input: 'range' }];
  const sizes = (opts.slices as string).split(',').map((s) => Number(s.replace(/[_,]/g, '')));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--slices: bad list "${opts.slices}"`);
  const input = opts.input as string;
  if (!['range', 'array', 'both'].includes(input)) throw new Error(`--input: range, array or both`);
  const arrayMax = Number(opts['array-max']);
  const out: JobSpec[] = [];
  for (const n of sizes) {
    if (input !== 'array') out.push({ slices: n, input: 'range' });
    if (input !== 'range' && n <= arrayMax) out.push({ slices: n, input: 'array' });
  }
  return out;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Rate of `fn` per second over `seconds` (after a short warm-up). */
function rate(seconds: number, fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  return n / ((performance.now() - start) / 1000);
}

/** The native secp256k1 sign and recover rates over a message of a typical DCP result submission's size. */
function cryptoRates(): { sign: number; recover: number; chars: number } {
  const id = Identity.random(nativeCrypto);
  const body = JSON.stringify({
    id: '3-41-abcdefghijklmnopqrstu',
    type: 'request',
    payload: {
      operation: 'submitResult@3',
      data: {
        job: 'r7PgBmhuk8S0nqXzESLsAS',
        slice: 4242,
        worker: id.address,
        result: 'data:application/x-kvin,{"vin":4242}',
        timeReport: { total: 3, CPU: 1, webGL: 0 },
      },
      allow: [],
      validity: { stamp: 'abcdefghijklmnopqrstu', ttl: 120, time: Date.now() / 1000 },
    },
    auth: {},
    dcpsid: 'x'.repeat(42),
    time: Date.now() / 1000,
    ackToken: 'ATi2-abcdefghijklmnopqrstu',
    nonce: 'NNt1-abcdefghijklmnopqrstu',
  });
  const sig = id.sign(body);
  const sign = rate(1.5, () => id.sign(body));
  const recover = rate(1.5, () => recoverPersonal(nativeCrypto, body, sig));
  return { sign, recover, chars: body.length };
}

/** A child process with its output collected; `lines` gets each complete stdout line. */
function launch(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine?.(l);
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code, signal) => res(code ?? (signal ? -1 : null))),
  );
  return { child, exited, output: () => `${out}${err}` };
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process `up` started, by service, found through the process tree under `up`'s pid. */
function servicePids(upPid: number): Record<Service, number> {
  const table = processTable();
  const found: Partial<Record<Service, number>> = {};
  for (const pid of descendants(upPid, table)) {
    const cmd = cmdline(pid) ?? '';
    const m = /apps\/(scheduler|bank|worker)\/dist\/main\.js/.exec(cmd);
    if (m) found[m[1] as Service] = pid;
    if (/dcp-emu-evaluator\.js/.test(cmd)) found.evaluator = pid;
  }
  for (const s of SERVICES) if (!found[s]) throw new Error(`no ${s} process under dcp-emu up (pid ${upPid})`);
  return found as Record<Service, number>;
}

/** CPU ms of each service: its process tree (the worker's without its evaluator, which is counted alone). */
function cpuOf(pids: Record<Service, number>): Partial<Record<Service, number>> {
  const table = processTable();
  const out: Partial<Record<Service, number>> = {};
  for (const s of SERVICES) {
    const v = treeCpuMs(pids[s], s === 'worker' ? [pids.evaluator] : [], table);
    if (v !== undefined) out[s] = v;
  }
  return out;
}

/** Peak RSS (MB) of each service: the sum of VmHWM over its processes (the worker's without its evaluator). */
function rssOf(pids: Record<Service, number>): Partial<Record<Service, number>> {
  const table = processTable();
  const out: Partial<Record<Service, number>> = {};
  for (const s of SERVICES) {
    const skip =
      s === 'worker' ? new Set([pids.evaluator, ...descendants(pids.evaluator, table)]) : new Set();
    const members = [pids[s], ...descendants(pids[s], table).filter((p) => !skip.has(p))];
    const kb = members.reduce((sum, p) => sum + (peakRssKb(p) ?? 0), 0);
    if (kb > 0) out[s] = kb / 1024;
  }
  return out;
}

async function runJob(
  spec: JobSpec,
  dataDir: string,
  pids: Record<Service, number>,
  timeoutS: number,
): Promise<JobReport> {
  const label = `${fmt(spec.slices)} slices, ${spec.input} input`;
  console.log(`\n── job: ${label} (timeout ${fmt(timeoutS)} s)`);
  const before = cpuOf(pids);
  const started = Date.now();
  let reached = 0;
  let jobId: string | undefined;
  let done: Done | undefined;
  let fatal: string | undefined;
  let lastPrint = Date.now();
  /** what a job that did not finish still tells: exec → first result (ms), time of the last progress */
  const partial: { first?: number; lastAt?: number } = {};
  const client = launch(
    [CLI, 'run', '--data-dir', dataDir, CLIENT],
    {
      ...process.env,
      SLICES: String(spec.slices),
      INPUT: spec.input,
      PROGRESS_EVERY: String(Math.max(100, Math.round(spec.slices / 100))),
    },
    (line) => {
      if (!line.startsWith('BENCH ')) return;
      const o = JSON.parse(line.slice(6)) as {
        accepted?: string;
        at?: number;
        progress?: number;
        first?: number;
        start?: number;
        done?: Done;
        fatal?: string;
      };
      if (o.accepted) {
        jobId = o.accepted;
        console.log(`   accepted ${o.accepted} after ${fmt((o.at ?? 0) - started)} ms`);
      }
      if (o.first && o.start) partial.first = o.first - o.start;
      if (o.progress) {
        reached = o.progress;
        partial.lastAt = o.at ?? Date.now();
        if (Date.now() - lastPrint > 10_000) {
          lastPrint = Date.now();
          const s = (Date.now() - started) / 1000;
          console.log(`   ${fmt(reached)} / ${fmt(spec.slices)} results after ${fmt(s)} s`);
        }
      }
      if (o.done) done = o.done;
      if (o.fatal) fatal = o.fatal;
    },
  );
  const deadline = started + timeoutS * 1000;
  while (running(client.child) && Date.now() < deadline) {
    const dead = SERVICES.filter((s) => !readStat(pids[s]));
    if (dead.length > 0) {
      fatal ??= `${dead.map((s) => `${s} (pid ${pids[s]})`).join(', ')} died`;
      break;
    }
    await sleep(250);
  }
  // a client that printed its verdict is exiting: give it a moment before calling it stuck
  if (running(client.child)) await Promise.race([client.exited, sleep(10_000)]);
  const timedOut = running(client.child) && Date.now() >= deadline;
  if (running(client.child)) {
    try {
      process.kill(-(client.child.pid as number), 'SIGKILL');
    } catch {}
    await client.exited;
  }
  const code = await client.exited;
  const after = cpuOf(pids);
  const seconds = (Date.now() - started) / 1000;
  const report: JobReport = {
    spec,
    ok: false,
    reached: done?.resultEvents ?? reached,
    seconds,
    cpuMsPerSlice: {},
    peakRssMb: rssOf(pids),
    stuck: timedOut || SERVICES.some((s) => !readStat(pids[s])),
    firstMs: partial.first,
    ...(partial.lastAt ? { seconds: (partial.lastAt - started) / 1000 } : {}),
    errors: {},
  };
  for (const s of ['scheduler', 'bank', 'worker'] as const) {
    const lines = errorLinesOfFile(join(dataDir, 'logs', `${s}.log`));
    if (lines.length > 0) report.errors[s] = lines.map((l) => JSON.stringify(l).slice(0, 400));
  }
  const count = done?.resultEvents ?? reached;
  if (count > 0) {
    for (const s of SERVICES) {
      const a = after[s];
      const b = before[s];
      if (a !== undefined && b !== undefined) report.cpuMsPerSlice[s] = (a - b) / count;
    }
  }
  if (done) {
    report.done = done;
    report.cpuMsPerSlice.client = done.cpuMs / Math.max(1, done.resultEvents);
    report.peakRssMb.client = done.peakRssKb / 1024;
  }
  if (timedOut) {
    console.log(
      `   TIMEOUT after ${fmt(seconds)} s: ${fmt(reached)} of ${fmt(spec.slices)} results reached the client` +
        (jobId ? ` (job ${jobId})` : ' (job not accepted)'),
    );
    return report;
  }
  if (!done) {
    console.log(
      `   FAILED after ${fmt(seconds)} s, ${fmt(reached)} of ${fmt(spec.slices)} results (client exit ${code}): ` +
        `${fatal ?? ''}\n${client.output().slice(-3000)}`,
    );
    return report;
  }
  const problems = [
    done.results !== spec.slices && `${done.results} results for ${spec.slices} slices`,
    done.resultEvents !== spec.slices && `${done.resultEvents} distinct result events`,
    done.duplicates > 0 && `${done.duplicates} duplicate result events`,
    done.wrong + done.mismatched > 0 && `${done.wrong + done.mismatched} wrong values`,
  ].filter(Boolean);
  if (problems.length > 0) console.log(`   WRONG RESULTS: ${problems.join(', ')}`);
  report.ok = problems.length === 0;
  return report;
}

function printJob(r: JobReport, floor: number): void {
  for (const [s, lines] of Object.entries(r.errors)) {
    console.log(`   ${s} log: ${lines.length} error-level line(s) so far, e.g.`);
    for (const l of lines.slice(0, 3)) console.log(`     ${l}`);
  }
  const d = r.done;
  if (d) {
    const total = (d.done - d.start) / 1000;
    const steady = d.last > d.first ? (d.resultEvents - 1) / ((d.last - d.first) / 1000) : Number.NaN;
    console.log(
      `   slices/s (exec → all results):   ${fmt(d.resultEvents / total, 1)}  (${fmt(total, 1)} s)`,
    );
    console.log(
      `   slices/s (first → last result):  ${fmt(steady, 1)}  = ${fmt((100 * steady) / floor, 2)} % of the crypto floor`,
    );
    console.log(`   exec → accepted:                 ${fmt(d.accepted - d.start)} ms`);
    console.log(`   exec → first result:             ${fmt(d.first - d.start)} ms`);
  }
  console.log(
    `   CPU ms per slice:  ${[...SERVICES, 'client' as const].map((s) => `${s} ${fmt(r.cpuMsPerSlice[s], 2)}`).join(', ')}`,
  );
  console.log(
    `   peak RSS (MB):     ${[...SERVICES, 'client' as const].map((s) => `${s} ${fmt(r.peakRssMb[s])}`).join(', ')}`,
  );
}

function printTable(reports: JobReport[], floor: number): void {
  const head = [
    'slices',
    'input',
    'ok',
    'slices/s',
    'steady/s',
    '% floor',
    'exec→1st ms',
    'CPU ms/slice sch/bank/wrk/eval/cli',
    'peak RSS MB sch/bank/wrk/eval',
  ];
  const rows = reports.map((r) => {
    const d = r.done;
    const total = d ? (d.done - d.start) / 1000 : r.seconds;
    const steady = d && d.last > d.first ? (d.resultEvents - 1) / ((d.last - d.first) / 1000) : Number.NaN;
    const c = r.cpuMsPerSlice;
    const m = r.peakRssMb;
    return [
      fmt(r.spec.slices),
      r.spec.input,
      r.ok ? 'yes' : `NO (${fmt(r.reached)})`,
      fmt(r.reached / total, 1),
      fmt(steady, 1),
      fmt((100 * steady) / floor, 2),
      fmt(d ? d.first - d.start : r.firstMs),
      [c.scheduler, c.bank, c.worker, c.evaluator, c.client].map((v) => fmt(v, 2)).join(' / '),
      [m.scheduler, m.bank, m.worker, m.evaluator].map((v) => fmt(v)).join(' / '),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<number> {
  const list = jobs();
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-bench-e2e-'));
  const base = await freePortBase(5);
  const upArgs = [CLI, 'up', '--data-dir', dataDir, '--no-portal', '--port-base', String(base)];
  upArgs.push('--workers', String(opts.workers));
  let pg: PgServer | undefined;
  if (opts.postgres && !opts['database-url']) {
    pg = await startPostgres();
    opts['database-url'] = pg.url;
  }
  if (opts['database-url']) upArgs.push('--database-url', opts['database-url']);
  console.log(`bench:e2e — ${list.map((j) => `${fmt(j.slices)} ${j.input}`).join(', ')}`);
  console.log(
    `stack: dcp-emu up --no-portal --port-base ${base} --workers ${opts.workers}` +
      `${opts['database-url'] ? ` --database-url ${opts['database-url'].replace(/\/\/[^@]*@/, '//…@')}` : ''} (data ${dataDir})`,
  );
  const up = launch(upArgs, { ...process.env, DCP_EMU_LOG_LEVEL: 'info' });
  let known: number[] = [];
  let cleaned = false;
  let keep = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    known = [...new Set([...known, ...descendants(up.child.pid as number)])];
    if (running(up.child)) {
      up.child.kill('SIGINT'); // up stops its services (SIGTERM, then SIGKILL after 10 s)
      await Promise.race([up.exited, sleep(30_000)]);
    }
    for (const pid of [up.child.pid as number, ...known]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (keep) console.log(`data dir kept for a look at the logs: ${dataDir}/logs`);
    else rmSync(dataDir, { recursive: true, force: true });
    pg?.stop();
  };
  const onSignal = () => {
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const startedUp = Date.now();
    while (!up.output().includes('run a program:')) {
      if (!running(up.child)) throw new Error(`dcp-emu up exited:\n${up.output().slice(-4000)}`);
      if (Date.now() - startedUp > 600_000) throw new Error(`dcp-emu up not ready in 600 s:\n${up.output()}`);
      await sleep(200);
    }
    console.log(`stack ready in ${fmt((Date.now() - startedUp) / 1000, 1)} s`);
    const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { pid: number };
    const pids = servicePids(stack.pid);
    known = descendants(up.child.pid as number);
    console.log(`processes: ${SERVICES.map((s) => `${s} ${pids[s]}`).join(', ')}`);

    // the machine is shared: measured before and after the jobs, the better of each rate counts
    let crypto = cryptoRates();
    const signs = Number(opts['floor-signs']);
    const recovers = Number(opts['floor-recovers']);
    let floor = 1 / (signs / crypto.sign + recovers / crypto.recover);
    console.log(`native secp256k1 on this machine (message of ${crypto.chars} chars, stack idle):`);
    console.log(`   sign ${fmt(crypto.sign)} /s, recover ${fmt(crypto.recover)} /s`);
    console.log(
      `   crypto floor: 1 / (${signs} / sign + ${recovers} / recover) = ${fmt(floor)} slices/s on one core`,
    );

    const reports: JobReport[] = [];
    for (const spec of list) {
      const timeoutS = opts.timeout ? Number(opts.timeout) : 120 + spec.slices / 10;
      const r = await runJob(spec, dataDir, pids, timeoutS);
      printJob(r, floor);
      reports.push(r);
      if (!r.ok && !(opts['keep-going'] && !r.stuck)) break;
    }
    const again = cryptoRates();
    crypto = {
      ...crypto,
      sign: Math.max(crypto.sign, again.sign),
      recover: Math.max(crypto.recover, again.recover),
    };
    floor = 1 / (signs / crypto.sign + recovers / crypto.recover);
    console.log(
      `\nnative secp256k1 again after the jobs: sign ${fmt(again.sign)} /s, recover ${fmt(again.recover)} /s`,
    );
    console.log(`the table uses the better of each (the machine is shared): floor ${fmt(floor)} slices/s`);
    printTable(reports, floor);
    console.log(
      `crypto: sign ${fmt(crypto.sign)}/s, recover ${fmt(crypto.recover)}/s; floor ${fmt(floor)} slices/s ` +
        `(${signs} signatures + ${recovers} recoveries per slice at the scheduler)`,
    );
    const failed = reports.some((r) => !r.ok) || reports.length < list.length;
    if (failed) console.log('bench:e2e: a job failed or timed out (see above)');
    keep = failed;
    return failed ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
