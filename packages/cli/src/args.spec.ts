import { describe, expect, it } from 'vitest';
import { HELP, parseCommand, USAGE, UsageError } from './args';

const env = { DCP_EMU_DATA_DIR: '/data' };

describe('parseCommand', () => {
  it('up: defaults, port layout from --port-base, services and worker sandboxes', () => {
    const c = parseCommand(['up', '--port-base', '20000', '--workers', '3', '--no-portal'], env);
    if (c.kind !== 'up') throw new Error(c.kind);
    expect(c.up.dataDir).toBe('/data');
    expect(c.up.ports).toEqual({
      scheduler: 20000,
      bank: 20001,
      portal: 20002,
      worker: 20003,
      evaluator: 20004,
    });
    expect(c.up.services).toEqual(['scheduler', 'bank', 'worker']);
    expect(c.up.workers).toBe(3);
    expect(c.up).toMatchObject({
      evaluator: 'isolated-vm',
      accounts: 10,
      fund: '1000',
      build: true,
      host: '127.0.0.1',
    });
  });

  it('up: --workers 0 starts no worker; --evaluator external; --database-url; --fund', () => {
    const c = parseCommand(
      [
        'up',
        '--workers',
        '0',
        '--evaluator',
        'external',
        '--database-url',
        'postgresql://x/y',
        '--fund',
        '12.5',
      ],
      env,
    );
    if (c.kind !== 'up') throw new Error(c.kind);
    expect(c.up.services).toEqual(['scheduler', 'bank', 'portal']);
    expect(c.up.evaluator).toBe('external');
    expect(c.up.databaseUrl).toBe('postgresql://x/y');
    expect(c.up.fund).toBe('12.5');
  });

  it('up: rejects bad numbers and unknown options with a UsageError', () => {
    expect(() => parseCommand(['up', '--port-base', '70000'], env)).toThrow(UsageError);
    expect(() => parseCommand(['up', '--workers', 'many'], env)).toThrow(/--workers/);
    expect(() => parseCommand(['up', '--evaluator', 'v8'], env)).toThrow(/--evaluator/);
    expect(() => parseCommand(['up', '--fund', '-1'], env)).toThrow(/--fund/);
    expect(() => parseCommand(['up', '--bogus'], env)).toThrow(UsageError);
  });

  it('run: options before the program, everything after it is the program’s', () => {
    expect(parseCommand(['run', 'job.js', '--data-dir', 'x', '-v'], env)).toEqual({
      kind: 'run',
      dataDir: '/data',
      program: 'job.js',
      args: ['--data-dir', 'x', '-v'],
    });
    expect(parseCommand(['run', '--data-dir', '/d', 'job.js'], env)).toMatchObject({
      dataDir: '/d',
      args: [],
    });
    expect(() => parseCommand(['run'], env)).toThrow(/needs a program/);
    expect(() => parseCommand(['run', '--verbose', 'job.js'], env)).toThrow(/unknown option/);
  });

  it('logs, status, env, reset', () => {
    expect(parseCommand(['logs', 'bank', '-f', '-n', '5'], env)).toEqual({
      kind: 'logs',
      dataDir: '/data',
      service: 'bank',
      follow: true,
      lines: 5,
      json: false,
    });
    expect(parseCommand(['logs'], env)).toMatchObject({ service: undefined, follow: false, lines: 50 });
    expect(() => parseCommand(['logs', 'db'], env)).toThrow(/unknown service/);
    expect(parseCommand(['status', '--json'], env)).toEqual({ kind: 'status', dataDir: '/data', json: true });
    expect(parseCommand(['env', '--data-dir', '/x'], env)).toEqual({ kind: 'env', dataDir: '/x' });
    expect(parseCommand(['reset'], env)).toEqual({ kind: 'reset', dataDir: '/data', yes: false });
  });

  it('snapshot save|restore NAME and list; names are checked', () => {
    expect(parseCommand(['snapshot', 'save', 'before-test'], env)).toEqual({
      kind: 'snapshot',
      dataDir: '/data',
      action: 'save',
      name: 'before-test',
    });
    expect(parseCommand(['snapshot', 'list'], env)).toEqual({
      kind: 'snapshot',
      dataDir: '/data',
      action: 'list',
    });
    expect(() => parseCommand(['snapshot', 'save'], env)).toThrow(/usage/);
    expect(() => parseCommand(['snapshot', 'restore', '../x'], env)).toThrow(/snapshot names/);
    // @seed belongs to reset
    expect(() => parseCommand(['snapshot', 'save', '@seed'], env)).toThrow(/snapshot names/);
  });

  it('help and unknown commands', () => {
    expect(parseCommand([], env)).toEqual({ kind: 'help', exitCode: 2 });
    expect(parseCommand(['--help'], env)).toEqual({ kind: 'help', exitCode: 0 });
    expect(() => parseCommand(['deploy'], env)).toThrow(/unknown command/);
  });

  it('every command has --help (its own table), also as dcp-emu help <command>', () => {
    for (const command of Object.keys(HELP)) {
      if (command === 'worker') {
        // the worker's own command line answers `dcp-emu worker --help` (every worker option)
        expect(parseCommand([command, '--help'], env)).toEqual({ kind: 'worker', argv: ['--help'] });
      } else {
        expect(parseCommand([command, '--help'], env)).toEqual({ kind: 'help', exitCode: 0, command });
        expect(parseCommand([command, '-h'], env)).toEqual({ kind: 'help', exitCode: 0, command });
      }
      expect(parseCommand(['help', command], env)).toEqual({ kind: 'help', exitCode: 0, command });
      expect(HELP[command]).toMatch(new RegExp(`^usage: dcp-emu ${command}[\\s\\S]*example:`));
    }
    // the usage lists every command
    for (const command of Object.keys(HELP)) expect(USAGE).toContain(`  ${command}`);
    expect(parseCommand(['logs', 'scheduler', '--help'], env)).toMatchObject({ command: 'logs' });
    // a program's or a command's own --help is theirs
    expect(parseCommand(['run', 'prog.js', '--help'], env)).toMatchObject({ kind: 'run', args: ['--help'] });
    expect(parseCommand(['exec', '--', 'npm', '--help'], env)).toMatchObject({
      kind: 'exec',
      command: 'npm',
      args: ['--help'],
    });
    expect(parseCommand(['exec', '--workers', '1', 'node', '-h'], env)).toMatchObject({ kind: 'exec' });
    expect(parseCommand(['exec', '--workers', '1', '--help'], env)).toMatchObject({ kind: 'help' });
    expect(() => parseCommand(['help', 'deploy'], env)).toThrow(/no command "deploy"/);
  });

  it('logs: readable by default, --json for the raw lines', () => {
    expect(parseCommand(['logs', 'bank', '-n', '5'], env)).toMatchObject({
      kind: 'logs',
      service: 'bank',
      lines: 5,
      json: false,
    });
    expect(parseCommand(['logs', '--json'], env)).toMatchObject({ kind: 'logs', json: true });
  });

  it('replay: job id and slice number, --json, --inspect [--inspect-port], --scheduler', () => {
    expect(parseCommand(['replay', '0xabc', '3'], env)).toEqual({
      kind: 'replay',
      dataDir: '/data',
      jobId: '0xabc',
      slice: 3,
      json: false,
      inspect: false,
      inspectPort: 9229,
      scheduler: undefined,
    });
    expect(
      parseCommand(
        ['replay', '--inspect', '--inspect-port', '0', '0xabc', '12', '--json', '--scheduler', 'http://h:1/'],
        env,
      ),
    ).toMatchObject({ slice: 12, json: true, inspect: true, inspectPort: 0, scheduler: 'http://h:1/' });
    expect(() => parseCommand(['replay', '0xabc'], env)).toThrow(/usage: dcp-emu replay/);
    expect(() => parseCommand(['replay', '0xabc', '1', '2'], env)).toThrow(UsageError);
    for (const bad of ['0', '-1', '1.5', 'x', '99999999999999999999'])
      expect(() => parseCommand(['replay', '0xabc', '--', bad], env)).toThrow(/slice number/);
    expect(() => parseCommand(['replay', '0xabc', '1', '--inspect-port', '9'], env)).toThrow(
      /with --inspect/,
    );
    expect(() => parseCommand(['replay', '0xabc', '1', '--inspect', '--inspect-port', '70000'], env)).toThrow(
      /--inspect-port/,
    );
    expect(() => parseCommand(['replay', '0xabc', '1', '--scheduler', 'h:1'], env)).toThrow(/http/);
  });

  it('explain: one job id, --json', () => {
    expect(parseCommand(['explain', '0xabc', '--json'], env)).toEqual({
      kind: 'explain',
      dataDir: '/data',
      jobId: '0xabc',
      json: true,
    });
    expect(() => parseCommand(['explain'], env)).toThrow(UsageError);
    expect(() => parseCommand(['explain', 'a', 'b'], env)).toThrow(UsageError);
  });
});
