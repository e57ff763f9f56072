import { describe, expect, it } from 'vitest';
import { Identity, NonceCache, SIGNED_REQUEST_HEADER, seal, signRequest, verifySignedRequest } from './node';

describe('signed REST requests', () => {
  const id = Identity.random();
  const now = 1_800_000_000_000;
  const body = '{"reason":"done"}';
  const req = { method: 'POST', path: '/api/jobs/j1/cancel', body, timestamp: now };
  const verify = (header: string, over: Partial<Parameters<typeof verifySignedRequest>[1]> = {}) =>
    verifySignedRequest(header, {
      method: 'POST',
      path: req.path,
      body,
      now,
      nonces: new NonceCache(),
      ...over,
    });

  it('returns the signer for the request it signs', () => {
    const header = signRequest(id, req)[SIGNED_REQUEST_HEADER] as string;
    expect(header).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(verify(header)).toBe(id.address);
    expect(verify(header, { method: 'post', body: new TextEncoder().encode(body) })).toBe(id.address);
  });

  it('refuses another method, path or body, and a tampered signature', () => {
    const header = signRequest(id, req)[SIGNED_REQUEST_HEADER] as string;
    for (const over of [
      { method: 'DELETE' },
      { path: '/api/jobs/j2/cancel' },
      { body: '{"reason":"x"}' },
      { body: undefined },
    ])
      expect(() => verify(header, over)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    const other = Identity.random();
    const forged = Buffer.from(
      Buffer.from(header, 'base64url').toString().replace(id.address, other.address),
    ).toString('base64url');
    expect(() => verify(forged)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    expect(() => verify('!!!')).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    expect(() => verify(Buffer.from(seal(id, { type: 'other' })).toString('base64url'))).toThrow(
      expect.objectContaining({ code: 'EBADSIG' }),
    );
  });

  it('refuses timestamps outside the window and replayed nonces', () => {
    const old = signRequest(id, { ...req, timestamp: now - 6 * 60_000 })[SIGNED_REQUEST_HEADER] as string;
    expect(() => verify(old)).toThrow(expect.objectContaining({ code: 'EEXPIRED' }));
    const future = signRequest(id, { ...req, timestamp: now + 6 * 60_000 })[SIGNED_REQUEST_HEADER] as string;
    expect(() => verify(future)).toThrow(expect.objectContaining({ code: 'ETIMETRAVEL' }));
    const nonces = new NonceCache();
    const header = signRequest(id, req)[SIGNED_REQUEST_HEADER] as string;
    expect(verify(header, { nonces })).toBe(id.address);
    expect(() => verify(header, { nonces })).toThrow(expect.objectContaining({ code: 'EDUP' }));
    // a fresh signature (new nonce) of the same request passes
    expect(verify(signRequest(id, req)[SIGNED_REQUEST_HEADER] as string, { nonces })).toBe(id.address);
    const short = signRequest(id, { ...req, nonce: 'x' })[SIGNED_REQUEST_HEADER] as string;
    expect(() => verify(short)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
  });

  it('the nonce cache forgets after two windows and refuses when flooded', () => {
    const cache = new NonceCache(1000, 4);
    expect(cache.remember('a', 0)).toBe(true);
    expect(cache.remember('a', 1999)).toBe(false);
    expect(cache.remember('a', 2000)).toBe(true);
    for (const k of ['b', 'c', 'd']) expect(cache.remember(k, 2000)).toBe(true);
    expect(cache.remember('e', 2000)).toBe(false);
    expect(cache.remember('e', 10_000)).toBe(true);
  });
});
