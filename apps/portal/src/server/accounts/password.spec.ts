import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password';

const fast = { log2N: 12, r: 8, p: 1 };

describe('password hashing', () => {
  it('verifies the right password and rejects others', async () => {
    const stored = await hashPassword('correct horse battery staple', fast);
    expect(stored).toMatch(/^scrypt\$12\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same', fast);
    const b = await hashPassword('same', fast);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('uses the memory-hard defaults (64 MiB) when no parameters are given', async () => {
    const stored = await hashPassword('pw');
    expect(stored.startsWith('scrypt$16$8$1$')).toBe(true);
    expect(await verifyPassword('pw', stored)).toBe(true);
  });

  it('treats unicode compatibility forms alike', async () => {
    const stored = await hashPassword('\uFB01le', fast); // "ﬁle" ligature
    expect(await verifyPassword('file', stored)).toBe(true);
  });

  it('refuses malformed or hostile stored hashes instead of throwing', async () => {
    const stored = await hashPassword('pw', fast);
    const parts = stored.split('$');
    expect(await verifyPassword('pw', 'plain-text')).toBe(false);
    expect(await verifyPassword('pw', ['bcrypt', ...parts.slice(1)].join('$'))).toBe(false);
    expect(await verifyPassword('pw', ['scrypt', '30', ...parts.slice(2)].join('$'))).toBe(false);
    expect(await verifyPassword('pw', [...parts.slice(0, 5), 'AAAA'].join('$'))).toBe(false);
  });
});
