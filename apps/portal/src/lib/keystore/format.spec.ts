import { describe, expect, it } from 'vitest';
import { keystoreFileName, MAX_KEYSTORE_BYTES, parseKeystore } from './format';

/** Shaped like the keystores dcp-client 5.6.1 writes (n=1024, DCP fields); the hex values are made up. */
const DCP_WRITTEN = {
  version: 3,
  id: '896c102e-edf5-40b9-a33a-36247f7a519f',
  address: '5c720e127ae33b66a7d7b676f0c3c1ea2ca11de1',
  crypto: {
    ciphertext: '76a9c5d3c09f1bb1ea2f4a0e7e8cbb1c21d7b3a0d2e5c14fd3f2c9a2fa1c8dd1',
    cipherparams: { iv: '88c03c7a1e0bb2d6f3ce9f9a7c39050d' },
    cipher: 'aes-128-ctr',
    kdf: 'scrypt',
    kdfparams: {
      dklen: 32,
      salt: 'ebd1c3c6e0f0a8e2b8d1f5e6a7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f9475',
      n: 1024,
      r: 8,
      p: 1,
    },
    mac: '722a0d3f3b8e4a9c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7a86836',
  },
  label: 'default',
  timestamp: 'Mon Nov 23 2026 10:00:00 GMT+0000',
  process: 'node',
};

describe('parseKeystore', () => {
  it('accepts a dcp-client keystore and keeps its fields', () => {
    const r = parseKeystore(JSON.stringify(DCP_WRITTEN));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.address).toBe('0x5c720e127ae33b66a7d7b676f0c3c1ea2ca11de1');
    expect(r.keystore).toEqual(DCP_WRITTEN);
  });

  it('normalizes geth/ethers style: Crypto, 0x prefixes, upper-case hex, checksummed address', () => {
    const { crypto, ...rest } = DCP_WRITTEN;
    const r = parseKeystore({
      ...rest,
      address: '0x5C720E127ae33b66a7d7b676f0c3c1ea2ca11de1',
      Crypto: { ...crypto, mac: `0x${crypto.mac.toUpperCase()}` },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.keystore.crypto.mac).toBe(crypto.mac);
    expect(r.keystore.address).toBe(DCP_WRITTEN.address);
    expect('Crypto' in r.keystore).toBe(false);
  });

  it('accepts pbkdf2 keystores (MetaMask, older geth)', () => {
    const r = parseKeystore({
      ...DCP_WRITTEN,
      crypto: {
        ...DCP_WRITTEN.crypto,
        kdf: 'pbkdf2',
        kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ab' },
      },
    });
    expect(r.ok).toBe(true);
  });

  it('explains what is wrong with things that are not keystores', () => {
    const problems = (input: unknown) => {
      const r = parseKeystore(input);
      return r.ok ? [] : r.problems;
    };
    expect(problems('not json')[0]).toMatch(/not JSON/);
    expect(problems(JSON.stringify({ ...DCP_WRITTEN, version: 1 }))[0]).toMatch(/version 3/);
    expect(problems({ ...DCP_WRITTEN, crypto: undefined })[0]).toMatch(/no "crypto" section/);
    expect(problems({ ...DCP_WRITTEN, address: undefined })[0]).toMatch(/does not record its address/);
    expect(problems({ ...DCP_WRITTEN, address: '0x1234' })[0]).toMatch(/40 hexadecimal/);
    expect(problems({ ...DCP_WRITTEN, crypto: { ...DCP_WRITTEN.crypto, cipher: 'aes-256-cbc' } })[0]).toMatch(
      /crypto\.cipher/,
    );
    expect(
      problems({
        ...DCP_WRITTEN,
        crypto: { ...DCP_WRITTEN.crypto, kdfparams: { ...DCP_WRITTEN.crypto.kdfparams, n: 1000 } },
      })[0],
    ).toMatch(/power of two/);
    expect(problems(' '.repeat(MAX_KEYSTORE_BYTES + 1))[0]).toMatch(/too large/);
  });

  it('names the files dcp-client looks for', () => {
    expect(keystoreFileName('identity')).toBe('id.keystore');
    expect(keystoreFileName('bank')).toBe('default.keystore');
  });
});
