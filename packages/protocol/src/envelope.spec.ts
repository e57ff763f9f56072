import { describe, expect, it } from 'vitest';
import { DcpError, Identity, open, parseEnvelope, seal, verifyEnvelope } from './node';

describe('envelope', () => {
  const id = Identity.random();

  it('seals {owner, signature, body} over JSON.stringify(body) and opens it', () => {
    const body = {
      id: '1-1-a',
      type: 'request',
      payload: { operation: 'x', data: { n: 1.5, s: 'é' } },
      nonce: null,
    };
    const sealed = seal(id, body);
    expect(sealed).toBe(
      JSON.stringify({ owner: id.address, signature: id.sign(JSON.stringify(body)), body }),
    );
    const env = open(sealed);
    expect(env.owner).toBe(id.address);
    expect(env.body).toEqual(body);
  });

  it('refuses a changed body, a changed owner and malformed envelopes', () => {
    const sealed = seal(id, { type: 'ack', token: 't', nonce: 'n' });
    expect(() => open(sealed.replace('"token":"t"', '"token":"u"'))).toThrow(
      expect.objectContaining({ code: 'EBADSIG' }),
    );
    const other = Identity.random();
    expect(() => open(sealed.replace(id.address, other.address))).toThrow(
      expect.objectContaining({ code: 'EBADSIG' }),
    );
    expect(() => open(sealed.replace(id.address, '0xnothex'))).toThrow(
      expect.objectContaining({ code: 'EBADSIG' }),
    );
    for (const bad of [
      'nope',
      '[]',
      '{"owner":1}',
      '{"owner":"0x","signature":{}}',
      '{"owner":"0x","signature":1,"body":[]}',
    ])
      expect(() => parseEnvelope(bad)).toThrow(DcpError);
    expect(() => verifyEnvelope({ owner: id.address, signature: { r: 1 }, body: {} })).toThrow(
      expect.objectContaining({ code: 'EBADSIG' }),
    );
  });
});
