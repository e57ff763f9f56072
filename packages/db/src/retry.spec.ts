import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isTransientDbError, withDbRetry } from './retry';

describe('withDbRetry: a busy database is slower, never failed', () => {
  const dirs: string[] = [];
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcp-emu-retry-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const a = new Database(file);
    a.exec('CREATE TABLE t (n INTEGER)');
    // no busy timeout on the second connection: a held lock fails it at once with SQLITE_BUSY
    const b = new Database(file, { timeout: 0 });
    return { a, b };
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('retries a write refused by a lock held elsewhere until the lock is gone', async () => {
    const { a, b } = open();
    a.exec('BEGIN EXCLUSIVE');
    let busy: unknown;
    try {
      b.prepare('INSERT INTO t VALUES (1)').run();
    } catch (e) {
      busy = e;
    }
    expect(isTransientDbError(busy)).toBe(true);
    setTimeout(() => a.exec('COMMIT'), 150);
    const retries: number[] = [];
    await withDbRetry(async () => b.prepare('INSERT INTO t VALUES (2)').run(), {
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    expect(retries.length).toBeGreaterThan(0);
    expect(b.prepare('SELECT n FROM t').all()).toEqual([{ n: 2 }]);
    a.close();
    b.close();
  });

  it('surfaces other errors at once, and a transient one after the attempts given', async () => {
    const { a, b } = open();
    let calls = 0;
    await expect(
      withDbRetry(async () => {
        calls++;
        b.prepare('INSERT INTO missing VALUES (1)').run();
      }),
    ).rejects.toThrow(/no such table/);
    expect(calls).toBe(1);
    a.exec('BEGIN EXCLUSIVE');
    calls = 0;
    await expect(
      withDbRetry(
        async () => {
          calls++;
          b.prepare('INSERT INTO t VALUES (1)').run();
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    ).rejects.toThrow(/locked|busy/i);
    expect(calls).toBe(3);
    a.exec('ROLLBACK');
    a.close();
    b.close();
  });

  it('recognises transient errors through Prisma wrappers and PostgreSQL codes', () => {
    expect(isTransientDbError({ code: 'P2034', message: 'write conflict' })).toBe(true);
    expect(isTransientDbError({ code: 'P2028', message: 'Transaction already closed' })).toBe(true);
    expect(isTransientDbError(new Error('Operation has timed out'))).toBe(true);
    expect(isTransientDbError({ message: 'x', cause: { code: '40001' } })).toBe(true);
    expect(
      isTransientDbError({ message: 'x', meta: { driverAdapterError: { cause: { code: '40P01' } } } }),
    ).toBe(true);
    expect(isTransientDbError(new Error('UNIQUE constraint failed: t.id'))).toBe(false);
    expect(isTransientDbError({ code: 'P2002' })).toBe(false);
    expect(isTransientDbError(undefined)).toBe(false);
  });
});
