import { kvinFor, kvinVersionOf, parseKvin } from '@dcp-emu/protocol/node';
import { describe, expect, it } from 'vitest';
import {
  argumentUri,
  datumUri,
  parseArguments,
  parseRange,
  rangeLength,
  rangeValue,
  resultDataUri,
  storeInput,
  storeKvinInput,
} from './job-input';

describe('ranges', () => {
  it('counts and indexes like dcp-client RangeObject, without expanding', () => {
    const r = parseRange({ start: 1, end: 9, step: 4 });
    expect(rangeLength(r)).toBe(3);
    expect([1, 2, 3].map((n) => rangeValue(r, n))).toEqual([1, 5, 9]);
    const grouped = parseRange({ start: 1, end: 10, step: 3, group: 2 });
    expect(rangeLength(grouped)).toBe(2);
    expect(rangeValue(grouped, 2)).toEqual([7, 10]);
    const huge = parseRange({ start: 0, end: 999_999 });
    expect(rangeLength(huge)).toBe(1_000_000);
    expect(rangeValue(huge, 1_000_000)).toBe(999_999);
  });

  it('indexes a MultiRangeObject like dcp-client: tuples, the right-most part moving fastest', () => {
    const m = parseRange({ ranges: [{ start: 1, end: 2 }, [10, 20, 30]] });
    expect(rangeLength(m)).toBe(6);
    expect([1, 2, 3, 4, 5, 6].map((n) => rangeValue(m, n))).toEqual([
      [1, 10],
      [1, 20],
      [1, 30],
      [2, 10],
      [2, 20],
      [2, 30],
    ]);
    const three = parseRange({
      ranges: [
        { start: 0, end: 9 },
        { start: 0, end: 9 },
        { start: 5, end: 1, step: -2 },
      ],
    });
    expect(rangeLength(three)).toBe(300);
    expect(rangeValue(three, 300)).toEqual([9, 9, 1]);
    expect(() => parseRange({ ranges: [] })).toThrow(/ranges/);
    expect(() => parseRange({ ranges: [{ start: 1, end: 9, step: -1 }] })).toThrow(/ranges\[0\] step/);
    expect(() => parseRange({ ranges: [[]] })).toThrow(/empty/);
  });

  it('refuses steps that never reach the end', () => {
    expect(() => parseRange({ start: 1, end: 9, step: -1 })).toThrow(/step/);
    expect(() => parseRange({ start: 'a', end: 2 })).toThrow(/dataRange/);
  });
});

describe('remote data', () => {
  it('stores URL slice values as remote data the worker fetches (their content is the datum)', () => {
    const input = storeInput(new URL('http://localhost:1234/a.json'), 5);
    expect(input).toBe('u:http://localhost:1234/a.json');
    expect(datumUri(input, undefined, 1, 5)).toBe('http://localhost:1234/a.json');
    // other values (and URLs of other schemes) are data themselves
    expect(storeInput({ a: 1 }, 5)).toMatch(/^k:/);
    expect(storeInput(new URL('file:///etc/passwd'), 5)).toMatch(/^k:/);
  });
});

describe('values for each peer generation', () => {
  it('re-serializes v9 slice data as v8 for 4.x workers', () => {
    const input = storeKvinInput({ a: new Uint8Array([1, 2]) }, 5);
    const uri4 = datumUri(input, undefined, 1, 4);
    const text = decodeURI(uri4.slice('data:application/x-kvin,'.length));
    expect(kvinVersionOf(text)).toBe('v8');
    expect(parseKvin(text)).toEqual({ a: new Uint8Array([1, 2]) });
    expect(datumUri(null, { start: 1, end: 9, step: 4 }, 2, 4)).toBe('data:application/json,5');
  });

  it('reads marshaled arguments (job values and URLs) and serves them as data URIs', () => {
    const k = kvinFor(5);
    const args = parseArguments(
      k.marshal([
        { string: k.serialize(42), method: 'kvin', MIMEType: 'application/x-kvin' },
        { string: '"x y"', method: 'json' },
        new URL('http://example.test/a'),
      ]),
    );
    expect(args).toEqual([
      { string: k.serialize(42), method: 'kvin', MIMEType: 'application/x-kvin' },
      { string: '"x y"', method: 'json' },
      { url: 'http://example.test/a' },
    ]);
    expect(argumentUri(args[1] as never, 5)).toBe('data:application/json,%22x%20y%22');
    expect(argumentUri(args[2] as never, 4)).toBe('http://example.test/a');
    expect(resultDataUri({ string: k.serialize(7), method: 'kvin' }, 4)).toMatch(
      /^data:application\/x-kvin,.*v8/,
    );
  });
});
