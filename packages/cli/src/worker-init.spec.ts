import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeConfig, readKeystoreFile } from '@dcp-emu/protocol/node';
import { afterEach, describe, expect, it, afterAll } from 'vitest';
import {
  type InitPorts,
  locationsOf,
  parseWorkerInit,
  WorkerInitError,
  WorkerInitUsageError,
  type WorkerInitOptions,
  workerInit,
} from './worker-init';

const made: string[] = [];
/** a temporary directory, removed after the file's tests */
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('dcp-emu worker init: options', () => {
  it('defaults and checks', () => {
    const o = parseWorkerInit(['--scheduler', 'https://sched.example/']) as WorkerInitOptions;
    expect(o).toMatchObject({
      user: 'dcp',
      out: '/etc/systemd/system',
      evaluatorPort: 9000,
      timeoutMs: 10_000,
    });
    expect(o.scheduler.href).toBe('https://sched.example/');
    expect(parseWorkerInit(['--help'])).toBe('help');
    expect(() => parseWorkerInit([])).toThrow(/--scheduler URL is required/);
    expect(() => parseWorkerInit(['--scheduler', 'ftp://x/'])).toThrow(WorkerInitUsageError);
    expect(() => parseWorkerInit(['--scheduler', 'http://x/', '--payment-address', '0x12'])).toThrow(
      /--payment-address: an 0x address/,
    );
    expect(() => parseWorkerInit(['--scheduler', 'http://x/', '--user', 'a b'])).toThrow(/--user/);
    expect(() => parseWorkerInit(['--scheduler', 'http://x/', '--bogus'])).toThrow(WorkerInitUsageError);
  });

  it('finds every location in a dcp-config tree', () => {
    const l = locationsOf({
      scheduler: {
        location: new URL('http://s/'),
        configLocation: 'http://s/etc/dcp-config.kvin',
        services: { taskDistributor: { location: 'http://s/task-distributor/' } },
      },
      bank: { location: { href: 'http://b/' } },
      other: { location: 'not a url' },
    });
    expect(l.map((x) => `${x.name} ${x.url.href}`)).toEqual([
      'scheduler.location http://s/',
      'scheduler.services.taskDistributor.location http://s/task-distributor/',
      'bank.location http://b/',
    ]);
  });
});

describe('dcp-emu worker init: files and reachability (a scheduler config served on loopback)', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function serve(config: (base: string) => unknown): Promise<string> {
    let base = '';
    server = createServer((req, res) => {
      if (req.url?.startsWith('/etc/dcp-config.kvin')) res.end(encodeConfig(config(base), 5));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`;
    return base;
  }

  function ports(dir: string, lines: string[]): InitPorts {
    const file = join(dir, 'bin.js');
    writeFileSync(file, '');
    return {
      lookupUser: (u) =>
        u === 'svc'
          ? { uid: 4242, gid: 4242, home: join(dir, 'home') }
          : u === 'root'
            ? { uid: 0, gid: 0, home: '/root' }
            : undefined,
      chown: () => {},
      paths: {
        node: process.execPath,
        evaluatorBin: file,
        managerBin: file,
        workerBin: file,
        dcpWorkerBin: file,
      },
      log: (l) => lines.push(l),
    };
  }

  it('writes the keystores (0600), both configs and four units; reports each location', async () => {
    const base = await serve((b) => ({
      scheduler: {
        location: new URL(b),
        services: { resultSubmitter: { location: new URL(`${b}result-submitter/`) } },
      },
      bank: { location: new URL('http://127.0.0.1:1/') }, // nothing listens on port 1
    }));
    const dir = tmp('winit-');
    const lines: string[] = [];
    const o = parseWorkerInit([
      '--scheduler',
      base,
      '--user',
      'svc',
      '--out',
      join(dir, 'units'),
      '--payment-address',
      `0x${'ab'.repeat(20)}`,
      '--timeout',
      '5000',
    ]) as WorkerInitOptions;
    const report = await workerInit(o, ports(dir, lines));
    const id = readKeystoreFile(join(dir, 'home', '.dcp', 'id.keystore'));
    expect(report.identity).toBe(id.address);
    expect(statSync(report.identityFile).mode & 0o777).toBe(0o600);
    expect(report.paymentAddress).toBe(`0x${'ab'.repeat(20)}`);
    expect(report.paymentKeystore).toBeUndefined();
    expect(report.reached.map((r) => [r.name, r.ok])).toEqual([
      ['scheduler (--scheduler)', true],
      ['scheduler.services.resultSubmitter.location', true],
      ['bank.location', false],
    ]);
    expect(lines.some((l) => /NO +bank\.location +http:\/\/127\.0\.0\.1:1\//.test(l))).toBe(true);
    const emu = readFileSync(join(dir, 'home', '.dcp', 'dcp-emu-worker', 'dcp-config.js'), 'utf8');
    expect(emu).toContain(`location: new URL("${base}")`);
    expect(emu).toContain(`paymentAddress: "0x${'ab'.repeat(20)}"`);
    expect(emu).toContain("evaluator: '127.0.0.1:9001'");
    const dw = readFileSync(join(dir, 'home', '.dcp', 'dcp-worker', 'dcp-config.js'), 'utf8');
    expect(dw).toContain(`paymentAddress: "0x${'ab'.repeat(20)}"`);
    const unit = readFileSync(join(dir, 'units', 'dcp-worker.service'), 'utf8');
    expect(unit).toContain('User=svc');
    expect(unit).toContain(`Environment=DCP_SCHEDULER_LOCATION=${base}`);
    expect(unit).toMatch(/ExecStart=\S+node\S* \S+bin\.js -o console -H 127\.0\.0\.1 -p 9000/);
  });

  it('refuses an unknown user and an unreadable scheduler before writing anything', async () => {
    const dir = tmp('winit-');
    const o = parseWorkerInit([
      '--scheduler',
      'http://127.0.0.1:1/',
      '--user',
      'svc',
      '--out',
      join(dir, 'u'),
    ]) as WorkerInitOptions;
    await expect(workerInit(o, ports(dir, []))).rejects.toThrow(/cannot read the scheduler's dcp-config/);
    await expect(workerInit({ ...o, user: 'ghost' }, ports(dir, []))).rejects.toThrow(WorkerInitError);
    await expect(workerInit({ ...o, user: 'root' }, ports(dir, []))).rejects.toThrow(/unprivileged user/);
    expect(() => statSync(join(dir, 'home'))).toThrow();
    expect(() => statSync(join(dir, 'u'))).toThrow();
  });
});
