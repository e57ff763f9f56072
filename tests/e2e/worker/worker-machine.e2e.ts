/**
 * Worker machine operations, with real processes on loopback: dcp-emu-worker's dcp-worker-style
 * output modes (-o syslog to a UDP listener here, -o logfile), --pidFile, --reportInterval,
 * --showConfig and its configuration file; dcp-emu-evaluator-manager pausing work under load (the
 * load read from a file the test writes: deterministic); `dcp-emu worker init` against a real
 * scheduler, whose keystore, config and units the unmodified dcp-worker and our worker then use.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, readKeystoreFile } from '@dcp-emu/protocol/node';
import {
  cleanup,
  freePort,
  Proc,
  ROOT,
  startEvaluator,
  startScheduler,
  tempDir,
  unprivileged,
} from '@dcp-emu/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestScheduler, type TestScheduler } from '../../../apps/worker/test-support';

const WORKER = join(ROOT, 'apps/worker/bin/dcp-emu-worker.js');
const MANAGER = join(ROOT, 'apps/worker/bin/dcp-emu-evaluator-manager.js');
const DCP_WORKER = join(ROOT, 'node_modules/dcp-worker/bin/dcp-worker');

function writeConfig(d: string, text: string): string {
  const file = join(d, 'dcp-config.js');
  writeFileSync(file, text);
  return file;
}

function dir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

/** a directory removed after the test */
function scratch(prefix: string): string {
  const d = dir(prefix);
  dirs.push(d);
  return d;
}

/** a process of ours from its sources, in its own process group (Proc.stop takes its children too) */
function run(bin: string, args: string[], env: Record<string, string> = {}): Proc {
  return new Proc(
    spawn(process.execPath, [bin, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DCP_EMU_WORKER_FROM_SOURCE: '1',
        HOME: scratch('wm-home-'),
        DCP_HOMEDIR: scratch('wm-dcphome-'),
        DCP_ETCDIR: scratch('wm-etc-'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

async function until(pred: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const procs: Proc[] = [];
const dirs: string[] = [];
let scheduler: TestScheduler | undefined;
let udp: Socket | undefined;

afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop('SIGKILL');
  await scheduler?.stop();
  scheduler = undefined;
  udp?.close();
  udp = undefined;
  cleanup(...dirs.splice(0));
});

describe('dcp-emu-worker output modes, pid file, reports, config file', () => {
  it('-o syslog sends RFC 5424 lines over UDP (events, reports); --pidFile holds our pid and is removed at exit', async () => {
    scheduler = await startTestScheduler();
    udp = createSocket('udp4');
    const lines: string[] = [];
    udp.on('message', (m) => lines.push(m.toString()));
    await new Promise<void>((r) => udp?.bind(0, '127.0.0.1', r));
    const d = dir('wm-pid-');
    dirs.push(d);
    const pidFile = join(d, 'worker.pid');
    const worker = run(WORKER, [
      '--dcp-scheduler',
      `${scheduler.base}/`,
      '-o',
      'syslog',
      '--syslogAddress',
      '127.0.0.1',
      '--syslogPort',
      String(udp.address().port),
      '--syslogFacility',
      'local3',
      '--reportInterval',
      '1',
      '--pidFile',
      pidFile,
      '-c',
      '1',
      '-p',
      String(await freePort()),
      '--paymentAddress',
      Identity.random().address,
      '--data-dir',
      d,
      '-W',
      '300',
    ]);
    procs.push(worker);
    await worker.waitFor(/output goes to syslog/, 60_000);
    await until(
      () => existsSync(pidFile),
      10_000,
      () => worker.out,
    );
    expect(readFileSync(pidFile, 'utf8')).toBe(`${worker.child.pid}\n`);
    scheduler.addJob({
      jobId: 'syslog-job',
      name: 'syslog job',
      workFunction: 'function (x) { progress(1); return x * 2; }',
      data: [1, 2],
    });
    await scheduler.until(() => scheduler?.results.length === 2, 60_000, `results; ${worker.out}`);
    // local3 (19) × 8 + notice (5) = 157; RFC 5424: <PRI>1 TIMESTAMP HOST APP PID - - MSG
    const line = (re: RegExp) => lines.find((l) => re.test(l));
    await until(
      () =>
        line(/Slice Completed: syslog job slice 2/) !== undefined && line(/DCC earned: +0\.5/) !== undefined,
      15_000,
      () => lines.join('\n'),
    );
    expect(line(/Slice Completed/)).toMatch(
      new RegExp(
        `^<157>1 \\d{4}-\\d\\d-\\d\\dT\\S+Z \\S+ dcp-emu-worker ${worker.child.pid} - -  \\* Slice Completed`,
      ),
    );
    expect(line(/Payment address: /)).toBeDefined();
    // the --reportInterval report, one datagram per line
    expect(line(/ {2}working: +\d/)).toBeDefined();
    expect(line(/ {2}open: +\d/)).toBeDefined();
    // the terminal stays quiet: events went to syslog only
    expect(worker.out).not.toContain('Slice Completed');

    worker.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
    await until(
      () => line(/SIGINT: stopping/) !== undefined,
      10_000,
      () => lines.join('\n'),
    );

    // a second worker with the pid file of a running process refuses to start
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => holder.once('spawn', r));
    writeFileSync(pidFile, `${holder.pid}\n`);
    const refused = run(WORKER, [
      '--pidFile',
      pidFile,
      '--dcp-scheduler',
      `${scheduler.base}/`,
      '-o',
      'console',
    ]);
    procs.push(refused);
    expect(await refused.exited).toBe(1);
    expect(refused.out).toContain(`process ${holder.pid} (from ${pidFile}) is still running`);
    holder.kill('SIGKILL');
  }, 180_000);

  it('a config file (dcp-worker format) sets groups, wage and -o logfile; env and flags override it; --showConfig prints the merge', async () => {
    scheduler = await startTestScheduler();
    const d = dir('wm-cfg-');
    dirs.push(d);
    const logfile = join(d, 'logs', 'worker.log');
    const config = join(d, 'dcp-config.js');
    const payee = Identity.random().address;
    writeFileSync(
      config,
      `// like dcp-worker's etc/dcp-worker-config.js
{
  scheduler: { location: new URL('http://file.invalid:1/') },
  worker: {
    cores: { cpu: 3 },
    paymentAddress: '${payee}',
    computeGroups: [ { joinKey: 'filegroup', joinSecret: 'pw' } ],
    minimumWage: { CPU: 0.25 },
    allowOrigins: { any: [ 'https://data.example' ] },
    output: { mode: 'logfile', logfile: ${JSON.stringify(logfile)} },
  },
}
`,
    );
    const env = { DCP_EMU_WORKER_CONFIG: config, DCP_SCHEDULER_LOCATION: `${scheduler.base}/` };

    const show = run(WORKER, ['--showConfig', '-m', '1', '-g', 'flaggroup,pw2'], env);
    procs.push(show);
    expect(await show.exited).toBe(0);
    const shown = JSON.parse(show.out) as Record<string, Record<string, unknown>>;
    expect(shown.scheduler).toEqual({ location: `${scheduler.base}/` }); // env over file
    expect(shown.worker).toMatchObject({
      cores: { cpu: 3 }, // file over default
      maxSandboxes: 1, // flag
      paymentAddress: payee,
      minimumWage: { CPU: 0.25, GPU: 0, in: 0, out: 0 },
      allowOrigins: { any: ['https://data.example'] },
      computeGroups: [
        { joinKey: 'filegroup', joinSecret: '***' },
        { joinKey: 'flaggroup', joinSecret: '***' },
      ],
      output: { mode: 'logfile', logfile },
    });
    expect(shown.configFiles).toEqual([config]);
    const node = run(WORKER, ['--showConfig', 'worker.cores'], env);
    procs.push(node);
    expect(await node.exited).toBe(0);
    expect(JSON.parse(node.out)).toEqual({ cpu: 3 });

    const worker = run(
      WORKER,
      ['-c', '1', '-p', String(await freePort()), '--data-dir', d, '-W', '300'],
      env,
    );
    procs.push(worker);
    await worker.waitFor(/output goes to logfile/, 60_000);
    scheduler.addJob({
      jobId: 'file-job',
      name: 'logfile job',
      workFunction: 'function (x) { progress(1); return x + 1; }',
      data: [1],
    });
    await scheduler.until(() => scheduler?.results.length === 1, 60_000, `result; ${worker.out}`);
    expect(scheduler.results[0]?.paymentAddress).toBe(payee);
    const req = scheduler.requests.find((r) => r.operation === 'requestTask@3')?.data ?? {};
    expect(((req.workerComputeGroups ?? []) as { joinKey: string }[]).map((g) => g.joinKey)).toEqual([
      'filegroup',
      'public',
    ]);
    expect(JSON.stringify(req)).toContain('0.25');
    await until(
      () => existsSync(logfile) && readFileSync(logfile, 'utf8').includes('Slice Completed'),
      15_000,
      () => worker.out,
    );
    const text = readFileSync(logfile, 'utf8');
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z log {2}\. dcp-emu-worker 0x/m);
    expect(text).toMatch(/Z log {2}\* Slice Completed: logfile job slice 1/);
    expect(worker.out).not.toContain('Slice Completed');
    worker.kill('SIGINT');
    expect(await worker.exited).toBe(0);
  }, 180_000);
});

describe('dcp-emu-evaluator-manager', () => {
  it('closes running sandboxes and refuses new ones while the load is above --max-load; work resumes below it', async () => {
    scheduler = await startTestScheduler();
    const evaluator = await startEvaluator();
    procs.push(evaluator);
    const d = dir('wm-mgr-');
    dirs.push(d);
    const loadavg = join(d, 'loadavg');
    writeFileSync(loadavg, '0.10 0.10 0.10 1/100 1\n');
    const managerPort = await freePort();
    const manager = run(MANAGER, [
      '-p',
      String(managerPort),
      '--evaluator',
      `127.0.0.1:${evaluator.port}`,
      '--max-load',
      '2',
      '--loadavg-file',
      loadavg,
      '--poll',
      '0.1',
      '-d',
      'session',
    ]);
    procs.push(manager);
    await manager.waitFor(/listening on 127\.0\.0\.1:\d+/, 60_000);
    expect(manager.out).toContain('idle: accepting sandboxes');

    const worker = run(WORKER, [
      '--dcp-scheduler',
      `${scheduler.base}/`,
      '-o',
      'console',
      '--external-evaluator',
      '-p',
      String(managerPort),
      '-c',
      '1',
      '--paymentAddress',
      Identity.random().address,
      '--data-dir',
      d,
      '-W',
      '300',
    ]);
    procs.push(worker);
    await worker.waitFor(/Sandboxes: 1/, 60_000);

    // a long slice starts; the load rises: its sandbox is closed and the slice goes back
    scheduler.addJob({
      jobId: 'long',
      workFunction:
        'function (x) { const t = Date.now(); while (Date.now() - t < 30000) { progress(); } return x; }',
      data: [1],
    });
    await scheduler.until(
      () => scheduler?.begins.some((b) => b.jobId === 'long') === true,
      60_000,
      worker.out,
    );
    writeFileSync(loadavg, '3.50 1.00 0.50 1/100 1\n');
    await manager.waitFor(/busy \(short load 3\.50 > 2\)/, 30_000);
    // the worker sees its sandbox go and keeps the slice to run again once a sandbox opens
    await worker.waitFor(/sandbox \d+ lost \(evaluator closed the connection\); re-running slice 1/, 30_000);
    await manager.waitFor(/refused a sandbox: short load 3\.50 > 2/, 30_000);
    expect(scheduler.results).toEqual([]);

    // while busy no slice is computed: the worker's sandboxes are refused
    scheduler.addJob({
      jobId: 'short',
      workFunction: 'function (x) { progress(1); return x * 10; }',
      data: [1, 2],
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(scheduler.results).toEqual([]);

    // the load falls: the queued work is done
    writeFileSync(loadavg, '0.50 1.00 0.50 1/100 1\n');
    await manager.waitFor(/idle: accepting sandboxes[\s\S]*idle: accepting sandboxes/, 30_000);
    await scheduler.until(
      () => scheduler?.results.filter((r) => r.jobId === 'short').length === 2,
      90_000,
      `short results; worker:\n${worker.out}`,
    );
    expect(scheduler.returns.filter((r) => r.jobId === 'short')).toEqual([]);
    expect(
      scheduler.results
        .filter((r) => r.jobId === 'short')
        .map((r) => r.value)
        .sort(),
    ).toEqual([10, 20]);
  }, 240_000);
});

describe('dcp-emu-worker --evaluator-manager', () => {
  it('pauses its own evaluator while the load is high: no slice runs; resumes when it falls', async () => {
    scheduler = await startTestScheduler();
    const d = dir('wm-own-');
    dirs.push(d);
    const loadavg = join(d, 'loadavg');
    writeFileSync(loadavg, '4.00 1.00 1.00 1/100 1\n');
    const worker = run(WORKER, [
      '--dcp-scheduler',
      `${scheduler.base}/`,
      '-o',
      'console',
      '--evaluator-manager',
      '--max-load',
      '2',
      '--loadavg-file',
      loadavg,
      '--config',
      writeConfig(d, '{ evaluatorManager: { idlePoll: 0.1, disable: [ "session" ] } }'),
      '-p',
      String(await freePort()),
      '-c',
      '1',
      '--paymentAddress',
      Identity.random().address,
      '--data-dir',
      d,
      '-W',
      '300',
    ]);
    procs.push(worker);
    await worker.waitFor(/Evaluator manager: pausing work on load > 2/, 60_000);
    await worker.waitFor(/! Paused: short load 4\.00 > 2/, 30_000);
    scheduler.addJob({
      jobId: 'paused',
      workFunction: 'function (x) { progress(1); return x + 100; }',
      data: [1],
    });
    // paused from the start: no sandbox opens, so the worker asks for no work at all
    await new Promise((r) => setTimeout(r, 3_000));
    expect(scheduler.requests.filter((r) => r.operation === 'requestTask@3')).toEqual([]);
    expect(scheduler.results).toEqual([]);
    expect(scheduler.begins).toEqual([]);
    writeFileSync(loadavg, '0.30 1.00 1.00 1/100 1\n');
    await worker.waitFor(/Resumed: the machine is idle/, 30_000);
    await scheduler.until(() => scheduler?.results.length === 1, 60_000, `result; ${worker.out}`);
    expect(scheduler.results[0]?.value).toBe(101);
    worker.kill('SIGINT');
    expect(await worker.exited).toBe(0);
  }, 180_000);
});

describe('dcp-emu worker init', () => {
  it('against a real scheduler: keystore, reachability, configs and units that dcp-worker and our worker use', async (ctx) => {
    const data = tempDir('wm-init-sched-');
    dirs.push(data);
    const sched = await startScheduler(data);
    procs.push(sched);
    const machine = dir('wm-init-');
    dirs.push(machine);
    const home = join(machine, 'home');
    const out = join(machine, 'units');
    const evaluatorPort = await freePort();
    const user = unprivileged()
      ? 'nobody'
      : (process.env.USER ?? execFileSync('id', ['-un']).toString().trim());
    const init = (args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          join(ROOT, 'packages/cli/src/main.ts'),
          'worker',
          'init',
          ...args,
        ],
        {
          cwd: ROOT,
          env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json') },
          encoding: 'utf8',
        },
      );
    const r = init([
      '--scheduler',
      sched.url,
      '--user',
      user,
      '--home',
      home,
      '--out',
      out,
      '--evaluator-port',
      String(evaluatorPort),
      '--max-load',
      '8',
      '--cores',
      '1',
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // every location of the scheduler's dcp-config answered
    for (const name of ['taskDistributor', 'resultSubmitter', 'eventRouter'])
      expect(r.stdout).toMatch(new RegExp(`ok +scheduler\\.services\\.${name}\\.location +${sched.url}`));
    expect(r.stdout).toMatch(/ok +packageManager\.location/);
    expect(r.stdout).not.toMatch(/^ {2}NO /m);

    const identity = readKeystoreFile(join(home, '.dcp', 'id.keystore'));
    const payee = readKeystoreFile(join(home, '.dcp', 'default.keystore'));
    expect(r.stdout).toContain(`identity: ${identity.address}`);
    expect(r.stdout).toContain(`earnings: ${payee.address}`);
    const ids = unprivileged();
    // the keystores belong to the service user (0600): dcp-worker, running as that user, reads them
    if (ids) expect(statSync(join(home, '.dcp', 'id.keystore')).uid).toBe(ids.uid);
    expect(statSync(join(home, '.dcp', 'id.keystore')).mode & 0o777).toBe(0o600);
    expect(readdirSync(out).sort()).toEqual([
      'dcp-emu-evaluator-manager.service',
      'dcp-emu-evaluator.service',
      'dcp-emu-worker.service',
      'dcp-worker.service',
    ]);
    const workerUnit = readFileSync(join(out, 'dcp-emu-worker.service'), 'utf8');
    expect(workerUnit).toContain(`User=${user}`);
    expect(workerUnit).toContain(`--external-evaluator -o console -H 127.0.0.1 -p ${evaluatorPort}`);
    expect(readFileSync(join(out, 'dcp-emu-evaluator-manager.service'), 'utf8')).toContain(
      `-p ${evaluatorPort} --evaluator 127.0.0.1:${evaluatorPort + 1}`,
    );

    // run again: the identity is kept
    const again = init([
      '--scheduler',
      sched.url,
      '--user',
      user,
      '--home',
      home,
      '--out',
      out,
      '--cores',
      '1',
    ]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`identity: ${identity.address}`);
    expect(again.stdout).toContain(', kept)');

    // a scheduler that does not answer: nothing is written, exit 1
    const nowhere = init([
      '--scheduler',
      `http://127.0.0.1:${await freePort()}/`,
      '--user',
      user,
      '--home',
      join(machine, 'h2'),
      '--out',
      join(machine, 'u2'),
    ]);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toContain("cannot read the scheduler's dcp-config");
    expect(existsSync(join(machine, 'h2'))).toBe(false);

    // the unmodified dcp-worker, as the unit runs it (user, HOME, its config and keystores), no flags for the scheduler
    const evaluator = await startEvaluator();
    procs.push(evaluator);
    const dw = new Proc(
      spawn(
        process.execPath,
        [DCP_WORKER, '-o', 'console', '-H', '127.0.0.1', '-p', String(evaluator.port)],
        {
          cwd: home,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            LANG: 'C',
            // the test's home lives under /tmp (world-writable): dcp-client would refuse its config
            DCP_CLIENT_ALLOW_INSECURE_CONFIGURATION: '1',
          } as unknown as NodeJS.ProcessEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
          ...(ids ?? {}),
        },
      ),
    );
    procs.push(dw);
    await dw.waitFor(/\* Ready\./, 90_000);
    expect(dw.out).toContain(`Configured for scheduler ${sched.url}`);
    expect(dw.out.toLowerCase()).toContain(`identity is ${identity.address.toLowerCase()}`);
    expect(dw.out.toLowerCase()).toContain(`deposited in account ${payee.address.toLowerCase()}`);
    await dw.stop('SIGINT');

    // our worker with the same files: the config written by init names the scheduler and the payee
    const ours = run(
      WORKER,
      [
        '--external-evaluator',
        '-o',
        'console',
        '-H',
        '127.0.0.1',
        '-p',
        String(evaluator.port),
        '--data-dir',
        machine,
      ],
      {
        HOME: home,
        DCP_HOMEDIR: home,
      },
    );
    procs.push(ours);
    await ours.waitFor(/Sandboxes: 1/, 60_000);
    expect(ours.out).toContain(`dcp-emu-worker ${identity.address} → ${sched.url}`);
    expect(ours.out).toContain(`Payment address: ${payee.address}`);

    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.error) {
      ctx.skip('systemd-analyze is not installed here: the units were written but not verified');
      return;
    }
    const verify = spawnSync('systemd-analyze', ['verify', ...readdirSync(out).map((f) => join(out, f))], {
      encoding: 'utf8',
    });
    // nobody is a "special user" to systemd: that warning is expected when tests run as root
    const problems = verify.stderr
      .split('\n')
      .filter((l) => l.trim() && !/Special user nobody configured/.test(l));
    expect({ status: verify.status, problems }).toEqual({ status: 0, problems: [] });
  }, 300_000);
});
