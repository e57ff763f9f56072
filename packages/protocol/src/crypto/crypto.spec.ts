import { getAddress, Signature, verifyMessage, Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { Identity, isAddress, nativeCrypto, nobleCrypto, recoverPersonal, toChecksumAddress } from '../node';

describe.each([nativeCrypto, nobleCrypto])('CryptoPort $name', (crypto) => {
  const wallet = Wallet.createRandom();
  const id = Identity.fromPrivateKey(wallet.privateKey, crypto);

  it('derives the same checksummed address as ethers', () => {
    expect(id.address).toBe(wallet.address);
    expect(toChecksumAddress(crypto, wallet.address.toLowerCase())).toBe(
      getAddress(wallet.address.toLowerCase()),
    );
  });

  it('personal-signs exactly like ethers (EIP-191), in DCP {r,s,v} Buffer-JSON form', () => {
    const message = JSON.stringify({
      id: '1-1-x',
      type: 'request',
      payload: { operation: 'ü', data: [1, 2] },
    });
    const sig = id.sign(message);
    const theirs = Signature.from(wallet.signMessageSync(message));
    expect(sig.r).toEqual({ type: 'Buffer', data: Array.from(Buffer.from(theirs.r.slice(2), 'hex')) });
    expect(sig.s.data).toEqual(Array.from(Buffer.from(theirs.s.slice(2), 'hex')));
    expect(sig.v).toBe(theirs.v);
    const joined = `0x${Buffer.from([...sig.r.data, ...sig.s.data, sig.v]).toString('hex')}`;
    expect(verifyMessage(message, joined)).toBe(wallet.address);
  });

  it('recovers signers, and rejects tampered messages and malformed signatures', () => {
    const sig = id.sign('hello');
    expect(recoverPersonal(crypto, 'hello', sig)).toBe(wallet.address.toLowerCase());
    expect(recoverPersonal(crypto, 'hellO', sig)).not.toBe(wallet.address.toLowerCase());
    // plain arrays work too (the verifier does Buffer.from(r))
    expect(recoverPersonal(crypto, 'hello', { r: sig.r.data, s: sig.s.data, v: sig.v })).toBe(
      wallet.address.toLowerCase(),
    );
    expect(recoverPersonal(crypto, 'hello', { r: sig.r, s: sig.s, v: 29 })).toBeNull();
    expect(recoverPersonal(crypto, 'hello', { r: { data: [1, 2] }, s: sig.s, v: 27 })).toBeNull();
    expect(
      recoverPersonal(crypto, 'hello', { r: sig.r, s: { data: new Array(32).fill(300) }, v: 27 }),
    ).toBeNull();
    expect(recoverPersonal(crypto, 'hello', 'nope')).toBeNull();
    expect(recoverPersonal(crypto, 'hello', null)).toBeNull();
  });

  it('accepts lower-case, upper-case and EIP-55 addresses, not a wrong checksum', () => {
    expect(isAddress(crypto, wallet.address)).toBe(true);
    expect(isAddress(crypto, wallet.address.toLowerCase())).toBe(true);
    expect(isAddress(crypto, `0x${wallet.address.slice(2).toUpperCase()}`)).toBe(true);
    const body = wallet.address.slice(2);
    const i = [...body].findIndex((c) => /[a-f]/i.test(c));
    const flipped =
      body.slice(0, i) +
      (body[i] === body[i]!.toUpperCase() ? body[i]!.toLowerCase() : body[i]!.toUpperCase()) +
      body.slice(i + 1);
    expect(isAddress(crypto, `0x${flipped}`)).toBe(false);
    expect(isAddress(crypto, '0x1234')).toBe(false);
  });
});

it('native and noble agree', () => {
  const key = Wallet.createRandom().privateKey;
  const a = Identity.fromPrivateKey(key, nativeCrypto).sign('same');
  const b = Identity.fromPrivateKey(key, nobleCrypto).sign('same');
  expect(a).toEqual(b);
  expect(recoverPersonal(nobleCrypto, 'same', a)).toBe(recoverPersonal(nativeCrypto, 'same', b));
});
