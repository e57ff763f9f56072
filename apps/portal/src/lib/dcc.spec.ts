import { describe, expect, it } from 'vitest';
import { fromUnits, shortDcc, sumDcc, toUnits } from './dcc';

describe('DCC amounts', () => {
  it('converts exactly between decimal strings and base units', () => {
    expect(toUnits('1.5')).toBe(1_500_000_000_000_000_000n);
    expect(toUnits('-0.000000000000000001')).toBe(-1n);
    expect(fromUnits(toUnits('12.340'))).toBe('12.34');
    expect(fromUnits(-toUnits('0.25'))).toBe('-0.25');
    expect(toUnits('abc')).toBe(0n);
  });

  it('sums without floating-point drift', () => {
    expect(sumDcc(['0.1', '0.2'])).toBe('0.3');
    expect(sumDcc(['10', '-2.5', '0.000000000000000001'])).toBe('7.500000000000000001');
  });

  it('rounds for display', () => {
    expect(shortDcc('0.1234567')).toBe('0.123457');
    expect(shortDcc('-0.1234564')).toBe('-0.123456');
    expect(shortDcc('5')).toBe('5');
  });
});
