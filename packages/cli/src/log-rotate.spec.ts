import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSize, RotatingLog } from './log-rotate';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'log-rotate-'));
  dirs.push(d);
  return d;
};
const write = (log: RotatingLog, text: string) =>
  new Promise<void>((res, rej) => log.write(text, (e) => (e ? rej(e) : res())));
const end = (log: RotatingLog) => new Promise<void>((res) => log.end(res));

describe('parseSize', () => {
  it('reads bytes, k, M, G (binary units)', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize('10M')).toBe(10 * 1024 * 1024);
    expect(parseSize('1.5MiB')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('ten')).toBeUndefined();
    expect(parseSize('-1')).toBeUndefined();
  });
});

describe('RotatingLog', () => {
  it('rotates name.log → name.log.1 … at the size, keeping at most `keep` old files, lines whole', async () => {
    const d = dir();
    const file = join(d, 'scheduler.log');
    const log = new RotatingLog(file, { maxBytes: 100, keep: 2 });
    const line = (i: number) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`; // 30 bytes
    for (let i = 0; i < 20; i++) await write(log, line(i));
    await end(log);
    expect(readdirSync(d).sort()).toEqual(['scheduler.log', 'scheduler.log.1', 'scheduler.log.2']);
    for (const f of readdirSync(d)) expect(statSync(join(d, f)).size).toBeLessThanOrEqual(100);
    // 3 lines per file: 18 19 in the current one, 15-17 and 12-14 before it; older ones are gone
    expect(readFileSync(file, 'utf8')).toBe(line(18) + line(19));
    expect(readFileSync(`${file}.1`, 'utf8')).toBe(line(15) + line(16) + line(17));
    expect(readFileSync(`${file}.2`, 'utf8')).toBe(line(12) + line(13) + line(14));
  });

  it('appends to an existing log and counts its size; maxBytes 0 never rotates', async () => {
    const d = dir();
    const file = join(d, 'bank.log');
    writeFileSync(file, 'a'.repeat(90));
    const log = new RotatingLog(file, { maxBytes: 100, keep: 3 });
    await write(log, 'b'.repeat(20));
    await end(log);
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('a'.repeat(90));
    expect(readFileSync(file, 'utf8')).toBe('b'.repeat(20));
    const never = new RotatingLog(join(d, 'w.log'), { maxBytes: 0, keep: 3 });
    for (let i = 0; i < 10; i++) await write(never, 'c'.repeat(50));
    await end(never);
    expect(existsSync(join(d, 'w.log.1'))).toBe(false);
    expect(statSync(join(d, 'w.log')).size).toBe(500);
  });
});

describe('up --log-max-size / --log-keep', () => {
  it('parse into the log rotation, from flags or DCP_EMU_LOG_MAX_BYTES / DCP_EMU_LOG_KEEP', async () => {
    const { parseCommand } = await import('./args');
    const up = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const c = parseCommand(['up', ...argv], env);
      if (c.kind !== 'up') throw new Error(c.kind);
      return c.up.logRotation;
    };
    expect(up([])).toEqual({ maxBytes: 50 * 1024 * 1024, keep: 5 });
    expect(up(['--log-max-size', '10M', '--log-keep', '2'])).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 2 });
    expect(up([], { DCP_EMU_LOG_MAX_BYTES: '4096', DCP_EMU_LOG_KEEP: '1' })).toEqual({
      maxBytes: 4096,
      keep: 1,
    });
    expect(() => up(['--log-max-size', 'big'])).toThrow(/--log-max-size/);
  });
});
