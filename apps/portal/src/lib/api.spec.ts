import { describe, expect, it } from 'vitest';
import { safeNextPath, sentence } from './api';

describe('safeNextPath', () => {
  it('keeps same-site paths and refuses anything that leaves the site', () => {
    expect(safeNextPath('/account')).toBe('/account');
    expect(safeNextPath('/keystores?x=1')).toBe('/keystores?x=1');
    expect(safeNextPath(undefined)).toBe('/keystores');
    expect(safeNextPath('')).toBe('/keystores');
    expect(safeNextPath('https://evil.test/')).toBe('/keystores');
    expect(safeNextPath('//evil.test/')).toBe('/keystores');
    expect(safeNextPath('/\\evil.test/')).toBe('/keystores');
    expect(safeNextPath('javascript:alert(1)', '/')).toBe('/');
  });
});

describe('sentence', () => {
  it('capitalizes and ends with a full stop once', () => {
    expect(sentence('the two passwords differ')).toBe('The two passwords differ.');
    expect(sentence('Already done.')).toBe('Already done.');
    expect(sentence('  ')).toBe('');
  });
});
