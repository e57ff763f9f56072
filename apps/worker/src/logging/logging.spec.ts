import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { LogfileSink } from './logfile';
import { jsonLineLevel } from './output';
import { PidFileError, writePidFile } from './pidfile';
import { formatSyslog, SyslogSink } from './syslog';

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

const at = new Date(2026, 11, 7, 5, 4, 3, 210);

describe('syslog lines', () => {
  it('RFC 5424 and RFC 3164 framing, priority = facility × 8 + severity', () => {
    const m = {
      facility: 'local7' as const,
      level: 'log' as const,
      message: ' * Slice Completed: job slice 1',
      hostname: 'box one',
      appName: 'dcp-emu-worker',
      pid: 42,
      date: at,
    };
    expect(formatSyslog(m)).toBe(
      `<189>1 ${at.toISOString()} boxone dcp-emu-worker 42 - -  * Slice Completed: job slice 1`,
    );
    expect(formatSyslog({ ...m, facility: 'daemon', level: 'error' }, 'rfc3164')).toBe(
      '<27>Dec  7 05:04:03 boxone dcp-emu-worker[42]:  * Slice Completed: job slice 1',
    );
  });

  it('SyslogSink sends one UDP datagram per line and flushes on close', async () => {
    const server = createSocket('udp4');
    const got: string[] = [];
    server.on('message', (b) => got.push(b.toString()));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const sink = new SyslogSink({
      address: '127.0.0.1',
      port: server.address().port,
      facility: 'local0',
      format: 'rfc5424',
      appName: 'test-app',
      hostname: 'h',
    });
    sink.write('warn', 'first\nsecond');
    await sink.close();
    const deadline = Date.now() + 30_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    server.close();
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(new RegExp(`^<132>1 \\S+ h test-app ${process.pid} - - first$`));
    expect(got[1]).toMatch(/ - - second$/);
  });

  it('an unreachable syslog server is reported once, not once per line', async () => {
    const errors: string[] = [];
    const sink = new SyslogSink({
      address: 'no-such-host.invalid',
      port: 514,
      facility: 'local7',
      format: 'rfc5424',
      appName: 'a',
      onError: (e) => errors.push(e.message),
    });
    for (let i = 0; i < 20; i++) sink.write('log', `line ${i}`);
    await sink.close(30_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no-such-host\.invalid|ENOTFOUND|EAI_AGAIN/);
  });

  it('pino JSON lines map to syslog levels', () => {
    expect(jsonLineLevel('{"level":50,"msg":"x"}')).toBe('error');
    expect(jsonLineLevel('{"level":40}')).toBe('warn');
    expect(jsonLineLevel('{"level":30}')).toBe('info');
    expect(jsonLineLevel('{"level":20}')).toBe('debug');
  });
});

describe('log file', () => {
  it('appends timestamped lines and reopens the file (logrotate + SIGHUP)', async () => {
    const dir = tmp('logfile-');
    const file = join(dir, 'sub', 'w.log');
    const sink = new LogfileSink(file);
    sink.write('log', 'one');
    // logrotate moves the file away; the next lines go to a new file under the same name
    await new Promise((r) => setTimeout(r, 50));
    const { renameSync } = await import('node:fs');
    renameSync(file, `${file}.1`);
    sink.reopen();
    sink.write('warn', 'two');
    await sink.close();
    expect(readFileSync(`${file}.1`, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z log one\n$/);
    expect(readFileSync(file, 'utf8')).toMatch(/ warn two\n$/);
  });
});

describe('pid file', () => {
  it('written with our pid, refused while its process lives, replaced when stale, removed', async () => {
    const dir = tmp('pid-');
    const file = join(dir, 'w.pid');
    const remove = writePidFile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    remove();
    expect(() => readFileSync(file)).toThrow();

    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(file, `${child.pid}\n`);
    expect(() => writePidFile(file)).toThrow(PidFileError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const again = writePidFile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    again();
  });
});
