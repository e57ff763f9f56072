import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startBusyLoad } from './busy';
import { errorLines } from './logs';
import { cmdline, descendants, parseStat, peakRssKb, readStat, treeCpuMs } from './procfs';

describe('/proc readings', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const s = parseStat(`4242 (a (b) c) ${fields.join(' ')}`, 100);
    expect(s).toEqual({ pid: 4242, ppid: 4, cpuMs: (14 + 15) * 10, childrenCpuMs: (16 + 17) * 10 });
  });

  it('reads this process, its peak RSS and a child in its tree; a gone pid reads as undefined', async () => {
    expect(readStat(process.pid)?.ppid).toBe(process.ppid);
    expect(peakRssKb(process.pid)).toBeGreaterThan(1000);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(descendants(process.pid)).toContain(child.pid);
      expect(cmdline(child.pid as number)).toContain('setTimeout');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expect(readStat(child.pid as number)).toBeUndefined();
    expect(treeCpuMs(child.pid as number)).toBeUndefined();
  });

  it('a busy load burns CPU until stopped, and is gone after', async () => {
    const load = startBusyLoad(1);
    const pid = load.pids[0] as number;
    try {
      const deadline = Date.now() + 60_000;
      while ((readStat(pid)?.cpuMs ?? 0) < 200 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(readStat(pid)?.cpuMs).toBeGreaterThanOrEqual(200);
    } finally {
      await load.stop();
    }
    expect(readStat(pid)).toBeUndefined();
  });
});

describe('log scanning', () => {
  it('keeps JSON lines at error level or above, skips the rest', () => {
    const text = [
      '{"level":30,"msg":"info"}',
      'not json {',
      '{"level":50,"msg":"bad"}',
      '{"level":60,"msg":"worse"}',
      '{"level":"50"}',
      '',
    ].join('\n');
    expect(errorLines(text).map((l) => l.msg)).toEqual(['bad', 'worse']);
    expect(errorLines(text, 60).map((l) => l.msg)).toEqual(['worse']);
  });
});
