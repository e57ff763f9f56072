import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasSnapshotCopy } from './seeding';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sqlite = (snapshotFile: string) => ({
  provider: 'sqlite' as const,
  database: 'x',
  snapshots: true,
  snapshotFile,
});

describe('hasSnapshotCopy', () => {
  it('finds a service database in a snapshot folder, or the single file of an older one', () => {
    dir = mkdtempSync(join(tmpdir(), 'dcp-emu-seed-'));
    mkdirSync(join(dir, 'snapshots', 'new'), { recursive: true });
    writeFileSync(join(dir, 'snapshots', 'new', 'bank.sqlite'), '');
    mkdirSync(join(dir, 'snapshots', 'old'), { recursive: true });
    writeFileSync(join(dir, 'snapshots', 'old', 'dcp-emu.sqlite'), '');

    expect(hasSnapshotCopy(dir, 'new', sqlite('bank.sqlite'))).toBe(true);
    expect(hasSnapshotCopy(dir, 'new', sqlite('portal.sqlite'))).toBe(false);
    expect(hasSnapshotCopy(dir, 'old', sqlite('portal.sqlite'))).toBe(true);
    expect(hasSnapshotCopy(dir, 'none', sqlite('bank.sqlite'))).toBe(false);
    expect(hasSnapshotCopy(dir, 'new', { provider: 'postgresql', database: 'y', snapshots: false })).toBe(
      false,
    );
  });
});
