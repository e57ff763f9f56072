import { describe, expect, it } from 'vitest';
import { kvinFor, parseKvin } from '@dcp-emu/protocol/node';
import { renderValue } from './render-value';

describe('renderValue', () => {
  it('keeps plain JSON values as they are', () => {
    const v = { a: [1, 'x', true, null], b: { c: 2.5 } };
    expect(renderValue(v)).toEqual(v);
  });

  it('renders cycles, functions, errors, bigints, typed arrays and odd numbers as JSON', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic, 1];
    const out = renderValue({
      cyclic,
      fn: function work() {},
      arrow: () => 1,
      err: new TypeError('bad'),
      big: 12n,
      bytes: new Uint8Array([1, 2]),
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      undef: undefined,
      date: new Date(0),
      map: new Map([['k', 1]]),
      set: new Set([3]),
    });
    const text = JSON.stringify(out);
    expect(JSON.parse(text)).toEqual({
      cyclic: { name: 'loop', self: '[Circular]', list: ['[Circular]', 1] },
      fn: '[Function work]',
      arrow: '[Function arrow]',
      err: { error: { name: 'TypeError', message: 'bad' } },
      big: '12n',
      bytes: [1, 2],
      nan: 'NaN',
      inf: 'Infinity',
      undef: null,
      date: '1970-01-01T00:00:00.000Z',
      map: [['k', 1]],
      set: [3],
    });
  });

  it('a shared (not circular) object is rendered each time it appears', () => {
    const shared = { x: 1 };
    expect(renderValue([shared, shared])).toEqual([{ x: 1 }, { x: 1 }]);
  });

  it('cuts huge strings, deep nesting and very many values', () => {
    const limits = { maxString: 10, maxDepth: 3, maxNodes: 50 };
    expect(renderValue('a'.repeat(25), limits)).toBe('aaaaaaaaaa… (25 characters, cut)');
    expect(renderValue({ a: { b: { c: { d: 1 } } } }, limits)).toEqual({
      a: { b: { c: '[… nested too deep]' } },
    });
    const many = renderValue(
      Array.from({ length: 1000 }, (_, i) => i),
      limits,
    ) as unknown[];
    expect(many.length).toBeLessThanOrEqual(51);
    expect(many.at(-1)).toMatch(/more items, cut/);
  });

  it('renders a circular KVIN result (what a job may return)', () => {
    const v: Record<string, unknown> = { n: 1 };
    v.me = v;
    const text = JSON.stringify(renderValue(parseKvin(kvinFor(5).serialize(v))));
    expect(JSON.parse(text)).toEqual({ n: 1, me: '[Circular]' });
  });
});
