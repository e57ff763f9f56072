import { describe, expect, it } from 'vitest';
import { defaultDatabaseUrl, parseDatabaseUrl } from './url';

describe('parseDatabaseUrl', () => {
  it('reads SQLite file URLs, relative to the data dir', () => {
    expect(parseDatabaseUrl('file:/abs/x.sqlite', '/d')).toEqual({
      provider: 'sqlite',
      target: '/abs/x.sqlite',
    });
    expect(parseDatabaseUrl('file:x.sqlite', '/d')).toEqual({ provider: 'sqlite', target: '/d/x.sqlite' });
    expect(parseDatabaseUrl(defaultDatabaseUrl('/d'), '/x').target).toBe('/d/dcp-emu.sqlite');
  });
  it('reads PostgreSQL URLs', () => {
    expect(parseDatabaseUrl('postgres://u@h/db', '/d').provider).toBe('postgresql');
    expect(parseDatabaseUrl('postgresql://u@h/db', '/d').provider).toBe('postgresql');
  });
  it('rejects anything else with the accepted forms', () => {
    expect(() => parseDatabaseUrl('mysql://x', '/d')).toThrow(/file:<path>.*postgresql:\/\//);
    expect(() => parseDatabaseUrl('file:', '/d')).toThrow(/names no file/);
  });
});
