import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileAckJournal } from './ack-journal-file';

describe('fileAckJournal', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const path = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcp-acks-'));
    dirs.push(dir);
    return join(dir, 'acks.log');
  };

  it('keeps the last token per session across a reopen (no close: as after kill -9)', () => {
    const file = path();
    const a = fileAckJournal(file);
    a.record('S1', 'AT1');
    a.record('S2', 'AT2');
    a.record('S1', 'AT3');
    a.forget('S2');
    const b = fileAckJournal(file);
    expect(b.last('S1')).toBe('AT3');
    expect(b.last('S2')).toBeUndefined();
    // reopening compacts the log to one line per live session
    expect(readFileSync(file, 'utf8')).toBe('S1 AT3\n');
    a.close();
    b.close();
  });

  it('compacts when the log grows, and never writes peer strings that would break a line', () => {
    const file = path();
    const j = fileAckJournal(file, { compactBytes: 200 });
    for (let i = 0; i < 100; i++) j.record('S', `AT${i}`);
    expect(readFileSync(file, 'utf8').length).toBeLessThan(300);
    j.record('S', 'bad\ntoken');
    j.record('T x', 'AT1');
    j.close();
    const again = fileAckJournal(file);
    expect(again.last('S')).toBeUndefined();
    expect(again.last('T x')).toBeUndefined();
    expect(again.last('T')).toBeUndefined();
    again.close();
  });
});
