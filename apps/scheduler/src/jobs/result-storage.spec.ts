import { DcpError } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import { resultStorageOf, resultUri, sliceStorageFields } from './result-storage';

describe('result storage (setResultStorage)', () => {
  it('reads the submit fields: a URL object or string, and the POST params', () => {
    expect(
      resultStorageOf({
        resultStorageType: 'pattern',
        resultStorageDetails: new URL('http://127.0.0.1:9/r'),
        resultStorageParams: { key: 'k', n: 1 },
      }),
    ).toEqual({ type: 'pattern', location: 'http://127.0.0.1:9/r', params: { key: 'k', n: 1 } });
    expect(
      resultStorageOf({ resultStorageType: 'pattern', resultStorageDetails: 'https://s.example/x' }),
    ).toEqual({
      type: 'pattern',
      location: 'https://s.example/x',
      params: {},
    });
    expect(resultStorageOf({})).toBeUndefined();
    expect(resultStorageOf({ resultStorageType: 'values' })).toBeUndefined();
  });

  it('refuses what no worker could POST to, and unknown types', () => {
    for (const bad of [
      { resultStorageType: 'pattern' },
      { resultStorageType: 'pattern', resultStorageDetails: 'file:///etc/passwd' },
      { resultStorageType: 'pattern', resultStorageDetails: 'not a url' },
      { resultStorageType: 'bucket', resultStorageDetails: 'http://a/' },
    ])
      expect(() => resultStorageOf(bad)).toThrow(DcpError);
  });

  it('gives each slice message the three fields (values: the default)', () => {
    expect(sliceStorageFields(undefined)).toEqual({ resultStorageType: 'values' });
    expect(sliceStorageFields({ type: 'pattern', location: 'http://a/r', params: { t: 'x' } })).toEqual({
      resultStorageType: 'pattern',
      resultStorageDetails: 'http://a/r',
      resultStorageParams: { t: 'x' },
    });
  });

  it("hands clients the storage's location when it answered with one, else the stored value", () => {
    const storage = { type: 'pattern' as const, location: 'http://a/r', params: {} };
    expect(resultUri({ string: '"http://a/r/1"', method: 'json' }, 5, storage)).toBe('http://a/r/1');
    expect(resultUri({ string: '{"href":"https://a/r/2"}', method: 'json' }, 5, storage)).toBe(
      'https://a/r/2',
    );
    // not a location: the answer itself, as a data: URI
    expect(resultUri({ string: '"stored"', method: 'json' }, 5, storage)).toBe(
      'data:application/json,%22stored%22',
    );
    // a job without storage: never a URL, whatever the value
    expect(resultUri({ string: '"http://a/r/1"', method: 'json' }, 5, undefined)).toBe(
      'data:application/json,%22http://a/r/1%22',
    );
  });
});
