import { describe, expect, it } from 'vitest';
import { prettyLine, prettyText } from './log-format';

const at = new Date(2026, 11, 7, 5, 4, 3, 21).getTime();

describe('readable log lines', () => {
  it('time, service, level, message, then the other fields compactly', () => {
    const line = JSON.stringify({
      level: 40,
      time: at,
      service: 'scheduler',
      pid: 12,
      name: 'scheduler',
      msg: 'payment account short: job paused',
      job: '0xabc',
      needed: '0.0003',
      detail: { a: 1 },
      note: 'two words',
    });
    expect(prettyLine(line)).toBe(
      '05:04:03.021 scheduler WARN  payment account short: job paused  job=0xabc needed=0.0003 detail={"a":1} note="two words"',
    );
  });

  it('errors show their message, then their stack indented; colour only when asked', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      service: 'bank',
      msg: 'failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
    });
    expect(prettyLine(line)).toBe(
      '05:04:03.021 bank      ERROR failed  err=boom\n    Error: boom\n        at x (y.js:1:1)',
    );
    expect(prettyLine(line, { color: true })).toContain('\x1b[31mERROR\x1b[0m');
  });

  it('lines that are not pino JSON pass through; the file name stands in for a missing service', () => {
    expect(prettyLine('Error: crashed')).toBe('Error: crashed');
    expect(prettyLine('{not json')).toBe('{not json');
    expect(prettyLine('{"a":1}')).toBe('{"a":1}');
    expect(prettyLine(JSON.stringify({ level: 30, time: at, msg: 'hi' }), { service: 'worker' })).toBe(
      '05:04:03.021 worker    INFO  hi',
    );
  });

  it('a chunk keeps its line structure', () => {
    const one = JSON.stringify({ level: 30, time: at, service: 'bank', msg: 'a' });
    expect(prettyText(`${one}\nplain\n`)).toBe('05:04:03.021 bank      INFO  a\nplain\n');
    expect(prettyText('')).toBe('');
  });
});
