import { chmodSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { parseArgs } from './cli/args';
import { resolveOptions } from './cli/main';
import { ConfigFileError, leafMerge, loadConfigFiles, readConfigFile } from './config-file';

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

function dir(): string {
  const d = tmp('wcfg-');
  chmodSync(d, 0o755);
  return d;
}

describe('worker configuration file', () => {
  it("reads dcp-worker's own etc/dcp-worker-config.js (object literal using dcpConfig, URL, require)", () => {
    const c = readConfigFile(join(__dirname, '../../../node_modules/dcp-worker/etc/dcp-worker-config.js'), {
      scheduler: { location: new URL('http://sched.example:7430/') },
    });
    expect(c.evaluator?.listen?.href).toBe('dcpsaw://localhost:9000/');
    expect(c.worker?.allowOrigins?.fetchData).toEqual(['http://sched.example:7430']);
    expect(c.worker?.utilization).toEqual({ cpu: 1, gpu: 0.75 });
  });

  it('a script that sets dcpConfig.…, JSON files, and the layering of the default locations', () => {
    const etc = dir();
    const home = dir();
    mkdirSync(join(etc, 'dcp', 'dcp-emu-worker'), { recursive: true });
    mkdirSync(join(home, '.dcp', 'dcp-emu-worker'), { recursive: true });
    writeFileSync(
      join(etc, 'dcp', 'dcp-emu-worker', 'dcp-config.json'),
      JSON.stringify({ worker: { cores: { cpu: 8 }, minimumWage: { CPU: 1, GPU: 2 } } }),
    );
    writeFileSync(
      join(home, '.dcp', 'dcp-emu-worker', 'dcp-config.js'),
      "dcpConfig.worker = { minimumWage: { CPU: 3 } };\ndcpConfig.scheduler = { location: new URL('http://from-home:1/') };\n",
    );
    const { config, files } = loadConfigFiles(undefined, { DCP_ETCDIR: etc, DCP_HOMEDIR: home });
    expect(files).toHaveLength(2);
    expect(config.worker?.cores).toEqual({ cpu: 8 });
    expect(config.worker?.minimumWage).toEqual({ CPU: 3, GPU: 2 });
    expect(config.scheduler?.location?.href).toBe('http://from-home:1/');
  });

  it('precedence: defaults < config file < environment < flags', () => {
    const d = dir();
    const file = join(d, 'w.js');
    writeFileSync(
      file,
      `{ scheduler: { location: new URL('http://file:1/') },
         evaluator: { location: new URL('dcpsaw://10.0.0.9:9555/') },
         worker: { paymentAddress: '0x${'1'.repeat(40)}', maxSandboxes: 3, cores: { cpu: 6 },
                   leavePublicGroup: true, computeGroups: [{ joinKey: 'f', joinSecret: 's' }],
                   output: { mode: 'syslog', syslog: { address: 'logs.example', facility: 'daemon' } },
                   reportInterval: 30, pidFile: '/run/w.pid' } }`,
    );
    const none = { DCP_HOMEDIR: d, DCP_ETCDIR: d };
    const fromFile = resolveOptions(['--config', file], none, false).options;
    expect(fromFile).toMatchObject({
      schedulerUrl: 'http://file:1/',
      evaluatorHost: '10.0.0.9',
      evaluatorPort: 9555,
      paymentAddress: `0x${'1'.repeat(40)}`,
      maxSandboxes: 3,
      cores: 6,
      leavePublicGroup: true,
      computeGroups: [{ joinKey: 'f', joinSecret: 's' }],
      output: 'syslog',
      syslog: { address: 'logs.example', port: 514, facility: 'daemon', format: 'rfc5424' },
      reportIntervalS: 30,
      pidFile: '/run/w.pid',
    });
    const env = {
      ...none,
      DCP_SCHEDULER_LOCATION: 'http://env:2/',
      DCP_EMU_WORKER_PAYMENT_ADDRESS: `0x${'2'.repeat(40)}`,
      DCP_EMU_WORKER_SANDBOXES: '2',
      DCP_EMU_EVALUATOR_PORT: '9666',
      DCP_EMU_WORKER_CONFIG: file,
    };
    expect(resolveOptions([], env, false).options).toMatchObject({
      schedulerUrl: 'http://env:2/',
      paymentAddress: `0x${'2'.repeat(40)}`,
      maxSandboxes: 2,
      evaluatorPort: 9666,
      cores: 6,
    });
    const flags = resolveOptions(
      ['--dcp-scheduler', 'http://flag:3/', '-m', '1', '-p', '9777', '-o', 'console', '-g', 'x,y'],
      env,
      false,
    ).options;
    expect(flags).toMatchObject({
      schedulerUrl: 'http://flag:3/',
      maxSandboxes: 1,
      evaluatorPort: 9777,
      output: 'console',
    });
    // as dcp-worker: -g adds to the configured groups
    expect(flags.computeGroups.map((g) => g.joinKey)).toEqual(['f', 'x']);
    expect(parseArgs([], {}, false)).toMatchObject({
      schedulerUrl: 'http://127.0.0.1:7430/',
      evaluatorPort: 9000,
    });
  });

  it('refuses unknown keys, bad values and world-writable files, naming the file and the key', () => {
    const d = dir();
    const bad = join(d, 'bad.js');
    writeFileSync(bad, '{ worker: { maxSandbox: 3 } }');
    expect(() => readConfigFile(bad, {})).toThrow(/bad\.js.*worker.*maxSandbox/);
    writeFileSync(bad, "{ worker: { paymentAddress: 'nope' } }");
    expect(() => readConfigFile(bad, {})).toThrow(/worker\.paymentAddress: an 0x address/);
    writeFileSync(bad, '{ worker: ');
    expect(() => readConfigFile(bad, {})).toThrow(ConfigFileError);
    const open = join(d, 'open.js');
    writeFileSync(open, '{}');
    chmodSync(open, 0o666);
    expect(() => readConfigFile(open, {}, {})).toThrow(/world-writable/);
    expect(() => loadConfigFiles(join(d, 'missing.js'), { DCP_HOMEDIR: d, DCP_ETCDIR: d })).toThrow(
      /does not exist/,
    );
  });

  it('leaf merge: objects key by key, arrays and URLs replaced, undefined ignored', () => {
    expect(
      leafMerge(
        { a: { b: 1, c: [1] }, u: new URL('http://a/') },
        { a: { c: [2], d: undefined }, u: new URL('http://b/') },
      ),
    ).toEqual({ a: { b: 1, c: [2] }, u: new URL('http://b/') });
  });
});
