import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeystoreFile } from '@dcp-emu/protocol/node';
import { afterEach, describe, expect, it } from 'vitest';
import { devAccounts, writeDevKeystores } from './identities';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dev identities', () => {
  it('derives the well-known accounts of the fixed mnemonic (same as Anvil/Hardhat)', () => {
    const accounts = devAccounts(3);
    expect(accounts.map((a) => a.address)).toEqual([
      '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    ]);
    expect(accounts[0]?.privateKey).toBe(
      '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    );
    expect(devAccounts(3)).toEqual(accounts);
  });

  it('writes id.keystore and default.keystore that open with an empty passphrase, once', () => {
    dir = mkdtempSync(join(tmpdir(), 'dcp-emu-ids-'));
    const [first] = devAccounts(1);
    if (!first) throw new Error('no account');
    expect(writeDevKeystores(dir, first)).toBe(true);
    for (const name of ['id.keystore', 'default.keystore']) {
      const file = join(dir, name);
      expect(readKeystoreFile(file, '').address.toLowerCase()).toBe(first.address.toLowerCase());
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(JSON.parse(readFileSync(join(dir, 'id.keystore'), 'utf8')).label).toBe('id');
    const before = readFileSync(join(dir, 'default.keystore'), 'utf8');
    expect(writeDevKeystores(dir, first)).toBe(false);
    expect(readFileSync(join(dir, 'default.keystore'), 'utf8')).toBe(before);
  });
});
