import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDatabaseUrl, parseDatabaseUrl, serviceDatabaseUrl } from './url';

describe('parseDatabaseUrl', () => {
  it('reads SQLite file URLs, relative to the data dir', () => {
    expect(parseDatabaseUrl('file:/abs/x.sqlite', '/d')).toEqual({
      provider: 'sqlite',
      target: '/abs/x.sqlite',
    });
    expect(parseDatabaseUrl('file:x.sqlite', '/d')).toEqual({ provider: 'sqlite', target: '/d/x.sqlite' });
    expect(parseDatabaseUrl(defaultDatabaseUrl('/d', 'bank'), '/x').target).toBe('/d/bank.sqlite');
  });
  it('reads PostgreSQL URLs, with the schema taken out of the connection string', () => {
    expect(parseDatabaseUrl('postgres://u@h/db', '/d')).toEqual({
      provider: 'postgresql',
      target: 'postgres://u@h/db',
    });
    expect(parseDatabaseUrl('postgresql://u:p@h:5/db?schema=bank&sslmode=disable', '/d')).toEqual({
      provider: 'postgresql',
      target: 'postgresql://u:p@h:5/db?sslmode=disable',
      schema: 'bank',
    });
    expect(() => parseDatabaseUrl('postgresql://h/db?schema=x;drop', '/d')).toThrow(/identifier/);
  });
  it('rejects anything else with the accepted forms', () => {
    expect(() => parseDatabaseUrl('mysql://x', '/d')).toThrow(/file:<path>.*postgresql:\/\//);
    expect(() => parseDatabaseUrl('file:', '/d')).toThrow(/names no file/);
  });
});

describe('serviceDatabaseUrl', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'dcp-emu-url-'));

  it('gives each service its own SQLite file in the data dir by default', () => {
    const d = dir();
    try {
      expect(serviceDatabaseUrl('scheduler', {}, d)).toBe(`file:${d}/scheduler.sqlite`);
      expect(serviceDatabaseUrl('bank', {}, d)).toBe(`file:${d}/bank.sqlite`);
      expect(serviceDatabaseUrl('portal', {}, d)).toBe(`file:${d}/portal.sqlite`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('keeps using the single dcp-emu.sqlite of an older data dir', () => {
    const d = dir();
    try {
      writeFileSync(join(d, 'dcp-emu.sqlite'), '');
      for (const s of ['scheduler', 'bank', 'portal'] as const)
        expect(serviceDatabaseUrl(s, {}, d)).toBe(`file:${d}/dcp-emu.sqlite`);
      // an explicit setting still wins
      expect(serviceDatabaseUrl('bank', { DCP_EMU_BANK_DATABASE_URL: 'file:b.sqlite' }, d)).toBe(
        'file:b.sqlite',
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a shared file: URL is one file for all (the user chose it)', () => {
    for (const env of [{ DCP_EMU_DATABASE_URL: 'file:/s.sqlite' }, { DATABASE_URL: 'file:/s.sqlite' }])
      for (const s of ['scheduler', 'bank', 'portal'] as const)
        expect(serviceDatabaseUrl(s, env, '/d')).toBe('file:/s.sqlite');
  });

  it('a shared PostgreSQL URL gives each service its own schema on that database', () => {
    const env = { DCP_EMU_DATABASE_URL: 'postgresql://u:p@h:5432/dcp' };
    expect(serviceDatabaseUrl('scheduler', env, '/d')).toBe('postgresql://u:p@h:5432/dcp?schema=scheduler');
    expect(serviceDatabaseUrl('portal', env, '/d')).toBe('postgresql://u:p@h:5432/dcp?schema=portal');
    const prefixed = { DATABASE_URL: 'postgres://h/dcp?schema=emu&sslmode=disable' };
    expect(parseDatabaseUrl(serviceDatabaseUrl('bank', prefixed, '/d'), '/d')).toEqual({
      provider: 'postgresql',
      target: 'postgres://h/dcp?sslmode=disable',
      schema: 'emu_bank',
    });
  });

  it('the per-service URL wins over the shared one', () => {
    const env = {
      DCP_EMU_DATABASE_URL: 'postgresql://h/dcp',
      DCP_EMU_SCHEDULER_DATABASE_URL: 'file:/fast.sqlite',
    };
    expect(serviceDatabaseUrl('scheduler', env, '/d')).toBe('file:/fast.sqlite');
    expect(serviceDatabaseUrl('bank', env, '/d')).toBe('postgresql://h/dcp?schema=bank');
  });
});
