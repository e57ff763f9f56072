import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptKeystoreJsonSync } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Identity,
  identityFromKeystore,
  keystoreJson,
  loadOrCreateIdentity,
  readKeystoreFile,
  writeClientKeystores,
  writeKeystoreFile,
} from './node';

describe('keystores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcp-keystore-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes Ethereum v3 scrypt (n=1024) keystores with DCP fields that ethers decrypts', () => {
    const id = Identity.random();
    const json = JSON.parse(keystoreJson(id, { label: 'id' }));
    expect(json).toMatchObject({ version: 3, label: 'id', process: 'dcp-emu' });
    expect(json.address).toBe(id.address.slice(2).toLowerCase());
    expect(json.crypto).toMatchObject({
      kdf: 'scrypt',
      cipher: 'aes-128-ctr',
      kdfparams: { n: 1024, r: 8, p: 1 },
    });
    expect(json.Crypto).toBeUndefined();
    expect(decryptKeystoreJsonSync(JSON.stringify(json), '').address).toBe(id.address);
    const locked = keystoreJson(id, { passphrase: 'secret' });
    expect(identityFromKeystore(locked, 'secret').address).toBe(id.address);
    expect(() => identityFromKeystore(locked, 'wrong')).toThrow();
  });

  it('loadOrCreateIdentity creates the key once and keeps it across restarts', () => {
    const file = join(dir, 'nested', 'target.keystore');
    const first = loadOrCreateIdentity(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const content = readFileSync(file, 'utf8');
    const again = loadOrCreateIdentity(file);
    expect(again.address).toBe(first.address);
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(again.sign('x')).toEqual(first.sign('x'));
  });

  it('never overwrites an existing keystore, and refuses a corrupt one', () => {
    const file = join(dir, 'existing.keystore');
    const id = Identity.random();
    writeKeystoreFile(file, id);
    expect(loadOrCreateIdentity(file).address).toBe(id.address);
    const corrupt = join(dir, 'corrupt.keystore');
    writeFileSync(corrupt, '{"not":"a keystore"}');
    expect(() => loadOrCreateIdentity(corrupt)).toThrow();
    expect(readFileSync(corrupt, 'utf8')).toBe('{"not":"a keystore"}');
  });

  it('writes id.keystore and default.keystore for dcp-client (empty passphrase)', () => {
    const { identity, account } = writeClientKeystores(join(dir, '.dcp'));
    expect(readKeystoreFile(join(dir, '.dcp', 'id.keystore')).address).toBe(identity.address);
    expect(readKeystoreFile(join(dir, '.dcp', 'default.keystore')).address).toBe(account.address);
    expect(JSON.parse(readFileSync(join(dir, '.dcp', 'default.keystore'), 'utf8')).label).toBe('default');
  });
});
