import { type Database, openDatabase } from '@dcp-emu/db';
import { freshDatabase, PROVIDERS, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComputeGroupRepository } from './compute-groups.repository';

describe.each(PROVIDERS)('compute groups on %s', (provider) => {
  let tdb: TestDatabase;
  let db: Database;
  const t0 = new Date('2026-01-01T00:00:00Z');
  const later = (ms: number) => new Date(t0.getTime() + ms);

  beforeAll(async () => {
    tdb = await freshDatabase(provider, inject('pgUrl'));
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('keeps compute groups by join key: unique, looked up in bulk, deleted once, cache follows changes', async () => {
    const repo = new ComputeGroupRepository(db.prisma);
    const other = new ComputeGroupRepository(db.prisma);
    const group = (joinKey: string, createdAt: Date) => ({
      joinKey,
      joinHash: `eh1-${joinKey}`,
      name: joinKey.toUpperCase(),
      owner: '0x1111111111111111111111111111111111111111',
      commissionRate: '0.25',
      createdAt,
    });
    expect(await repo.list()).toEqual([]);
    expect(await repo.create(group('g-a', t0))).toBe(true);
    expect(await repo.create(group('g-b', later(1)))).toBe(true);
    expect(await repo.create({ ...group('g-a', later(2)), joinHash: 'eh1-other' })).toBe(false);
    expect(await repo.get('g-a')).toEqual(group('g-a', t0));
    expect(await repo.get('g-none')).toBeUndefined();
    const byKey = await repo.byKey(['g-b', 'g-none', 'g-a']);
    expect([...byKey.keys()].sort()).toEqual(['g-a', 'g-b']);
    expect((await repo.byKey([])).size).toBe(0);
    expect((await repo.list()).map((g) => g.joinKey)).toEqual(['g-a', 'g-b']);
    expect(await repo.delete('g-a')).toBe(true);
    expect(await repo.delete('g-a')).toBe(false);
    expect((await repo.list()).map((g) => g.joinKey)).toEqual(['g-b']);
    // another instance read the table before: it sees the database again once told to forget
    await other.list();
    await repo.create(group('g-c', later(3)));
    other.forget();
    expect((await other.list()).map((g) => g.joinKey)).toEqual(['g-b', 'g-c']);
  });
});
