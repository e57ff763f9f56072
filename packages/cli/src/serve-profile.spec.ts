import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommand } from './args';
import { ServeError, serveProfile, warnExposedDev } from './serve-profile';

const ports = { scheduler: 7430, bank: 7431, portal: 7432 };
const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'serve-profile-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const none = {
  publicUrl: undefined,
  publicBankUrl: undefined,
  publicPortalUrl: undefined,
  adminToken: undefined,
};

describe('serveProfile', () => {
  it('derives the bank and portal URLs from an http --public-url; faucet off; a new token', () => {
    const p = serveProfile(
      { ...none, publicUrl: 'http://dcp.lan:7430' },
      { host: '0.0.0.0', dataDir: dir(), ports, portal: true },
    );
    expect(p.publicUrls).toEqual({
      scheduler: 'http://dcp.lan:7430/',
      bank: 'http://dcp.lan:7431/',
      portal: 'http://dcp.lan:7432/',
    });
    expect(p.env).toEqual({
      DCP_EMU_BANK_FAUCET: 'off',
      DCP_EMU_PUBLIC_URL: 'http://dcp.lan:7430/',
      DCP_EMU_PUBLIC_BANK_URL: 'http://dcp.lan:7431/',
    });
    expect(p.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(p.adminTokenGenerated).toBe(true);
  });

  it('needs --public-url on a wildcard or loopback host, and per-service URLs behind https', () => {
    const o = { dataDir: dir(), ports, portal: false };
    expect(() => serveProfile(none, { ...o, host: '0.0.0.0' })).toThrow(ServeError);
    expect(() => serveProfile(none, { ...o, host: '127.0.0.1' })).toThrow(/--public-url/);
    expect(() =>
      serveProfile({ ...none, publicUrl: 'https://dcp.example.org/' }, { ...o, host: '0.0.0.0' }),
    ).toThrow(/--public-bank-url/);
    expect(() =>
      serveProfile({ ...none, publicUrl: 'http://127.0.0.1:7430/' }, { ...o, host: '0.0.0.0' }),
    ).toThrow(/loopback/);
    const p = serveProfile(
      { ...none, publicUrl: 'https://dcp.example.org', publicBankUrl: 'https://bank.example.org' },
      { ...o, host: '0.0.0.0' },
    );
    expect(p.publicUrls).toEqual({
      scheduler: 'https://dcp.example.org/',
      bank: 'https://bank.example.org/',
    });
    expect(serveProfile(none, { ...o, host: '192.0.2.7' }).publicUrls.scheduler).toBe(
      'http://192.0.2.7:7430/',
    );
  });

  it("keeps the data dir's admin token (not printed again); a given one wins; short ones are refused", () => {
    const d = dir();
    writeFileSync(join(d, 'admin.token'), 'a-token-kept-from-before\n');
    const o = { host: '192.0.2.7', dataDir: d, ports, portal: false };
    const kept = serveProfile(none, o);
    expect(kept.adminToken).toBe('a-token-kept-from-before');
    expect(kept.adminTokenGenerated).toBe(false);
    expect(serveProfile({ ...none, adminToken: 'given-token-0123456789' }, o).adminToken).toBe(
      'given-token-0123456789',
    );
    expect(() => serveProfile({ ...none, adminToken: 'short' }, o)).toThrow(/16 characters/);
  });

  it('warns loudly about a plain up beyond loopback only', () => {
    let text = '';
    expect(warnExposedDev('127.0.0.1', (t) => (text += t))).toBe(false);
    expect(warnExposedDev('0.0.0.0', (t) => (text += t))).toBe(true);
    expect(text).toMatch(/faucet/);
    expect(text).toMatch(/PUBLIC "test test … junk" mnemonic/);
  });
});

describe('parseCommand serve', () => {
  it("takes up's options, binds 0.0.0.0 by default, and the public URLs", () => {
    const c = parseCommand(
      [
        'serve',
        '--public-url',
        'http://dcp.lan:9000',
        '--public-bank-url=http://bank.lan/',
        '--workers',
        '1',
      ],
      { DCP_EMU_DATA_DIR: '/tmp/x' },
    );
    if (c.kind !== 'serve') throw new Error(c.kind);
    expect(c.up.host).toBe('0.0.0.0');
    expect(c.up.workers).toBe(1);
    expect(c.serve.publicUrl).toBe('http://dcp.lan:9000/');
    expect(c.serve.publicBankUrl).toBe('http://bank.lan/');
    expect(() => parseCommand(['serve', '--public-url', 'ftp://x'], {})).toThrow(/http\(s\) URL/);
  });
});
