import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makePrivate, preparePrivateDataDir, usePrivateUmask } from './private-files';

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('private data files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('makes an existing data dir 0700 and everything in it 0600 / 0700, not following links', () => {
    const root = mkdtempSync(join(tmpdir(), 'private-files-'));
    dirs.push(root);
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'x', { mode: 0o644 });
    const data = join(root, 'data');
    mkdirSync(join(data, 'snapshots', 'one'), { recursive: true, mode: 0o755 });
    for (const f of ['dcp-emu.sqlite', 'dcp-emu.sqlite-wal', 'dcp-emu.sqlite-shm', 'snapshots/one/db.sqlite'])
      writeFileSync(join(data, f), 'x', { mode: 0o644 });
    symlinkSync(outside, join(data, 'link'));
    preparePrivateDataDir(data);
    expect(modeOf(data)).toBe(0o700);
    expect(modeOf(join(data, 'snapshots'))).toBe(0o700);
    expect(modeOf(join(data, 'snapshots', 'one'))).toBe(0o700);
    for (const f of ['dcp-emu.sqlite', 'dcp-emu.sqlite-wal', 'dcp-emu.sqlite-shm', 'snapshots/one/db.sqlite'])
      expect(modeOf(join(data, f))).toBe(0o600);
    expect(modeOf(outside)).toBe(0o644);
  });

  it('creates a missing data dir 0700 and accepts a missing path', () => {
    const root = mkdtempSync(join(tmpdir(), 'private-files-'));
    dirs.push(root);
    preparePrivateDataDir(join(root, 'a', 'b'));
    expect(modeOf(join(root, 'a', 'b'))).toBe(0o700);
    expect(() => makePrivate(join(root, 'missing'))).not.toThrow();
  });

  it('the private umask creates files 0600 and directories 0700', () => {
    const root = mkdtempSync(join(tmpdir(), 'private-files-'));
    dirs.push(root);
    const old = usePrivateUmask();
    try {
      writeFileSync(join(root, 'f'), 'x');
      mkdirSync(join(root, 'd'));
    } finally {
      process.umask(old);
    }
    expect(modeOf(join(root, 'f'))).toBe(0o600);
    expect(modeOf(join(root, 'd'))).toBe(0o700);
  });
});
