import { DcpError, DcpErrorCode } from '../errors';
import { describe, expect, it } from 'vitest';
import {
  checkUnits,
  DCC_DECIMALS,
  dcc,
  dccAmountSchema,
  formatDcc,
  MAX_UNITS,
  parseDcc,
  UNITS_PER_DCC,
} from './dcc';

function rejection(input: unknown, options?: Parameters<typeof parseDcc>[1]): DcpError {
  try {
    parseDcc(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(DcpError);
    expect((e as DcpError).code).toBe(DcpErrorCode.EINVAL);
    return e as DcpError;
  }
  throw new Error(`parseDcc(${String(input)}) did not throw`);
}

describe('DCC amounts', () => {
  it('uses 10^9 base units per DCC', () => {
    expect(DCC_DECIMALS).toBe(9);
    expect(UNITS_PER_DCC).toBe(1_000_000_000n);
  });

  it.each([
    ['12.5', 12_500_000_000n],
    ['0.0001', 100_000n],
    ['1', 1_000_000_000n],
    ['0.000000001', 1n],
    ['.5', 500_000_000n],
    ['5.', 5_000_000_000n],
    ['+3', 3_000_000_000n],
    ['  7.25 ', 7_250_000_000n],
    ['1e-9', 1n],
    ['2.5E3', 2_500_000_000_000n],
    ['1.5000000000000', 1_500_000_000n],
    ['000042.10', 42_100_000_000n],
    ['120e-2', 1_200_000_000n],
  ])('parses the decimal string %j exactly', (text, units) => {
    expect(parseDcc(text)).toBe(units);
  });

  it.each([
    [0.0001, 100_000n],
    [12.5, 12_500_000_000n],
    [1e-9, 1n],
    [1e3, 1_000_000_000_000n],
    [0.1, 100_000_000n],
    [123456.789012345, 123_456_789_012_345n],
  ])('parses the JSON number %d by its shortest decimal text', (n, units) => {
    expect(parseDcc(n)).toBe(units);
  });

  it('rejects more than 9 decimals, even when a float produced them', () => {
    expect(rejection('0.0000000001').message).toMatch(/more than 9 decimal places/);
    expect(rejection(1e-10).message).toMatch(/more than 9 decimal places/);
    expect(rejection(0.1 + 0.2).message).toMatch(/more than 9 decimal places/);
    expect(rejection('1.23e-9').message).toMatch(/more than 9 decimal places/);
  });

  it.each([NaN, Infinity, -Infinity])('rejects the number %d', (n) => {
    expect(rejection(n).message).toMatch(/not a finite number/);
  });

  it.each(['', '   ', 'abc', '1,5', '1.2.3', '0x10', '1e', 'e5', '--1', '1 000', 'NaN', 'Infinity', '١٢'])(
    'rejects the malformed text %j',
    (text) => {
      expect(rejection(text).message).toMatch(/invalid amount/);
    },
  );

  it.each([null, undefined, true, {}, [], 5n])('rejects the non-amount %s', (value) => {
    expect(rejection(value).message).toMatch(/expected a decimal string or number/);
  });

  it('applies the sign policy: positive by default, zero or negative only when allowed', () => {
    expect(rejection('0').message).toMatch(/greater than zero/);
    expect(rejection('-1').message).toMatch(/greater than zero/);
    expect(rejection(-0.5, { sign: 'nonNegative' }).message).toMatch(/must not be negative/);
    expect(parseDcc('0', { sign: 'nonNegative' })).toBe(0n);
    expect(parseDcc(-0, { sign: 'nonNegative' })).toBe(0n);
    expect(parseDcc('-2.5', { sign: 'any' })).toBe(-2_500_000_000n);
  });

  it('names the field in messages', () => {
    expect(rejection('x', { field: 'slicePaymentAmount' }).message).toBe(
      'invalid slicePaymentAmount "x": not a decimal number',
    );
  });

  it('rejects amounts beyond a signed 64-bit column and huge exponents without building them', () => {
    expect(parseDcc('9223372036.854775807')).toBe(MAX_UNITS);
    expect(rejection('9223372036.854775808').message).toMatch(/larger than the ledger can hold/);
    expect(rejection('1e999999999').message).toMatch(/larger than the ledger can hold/);
    expect(rejection(1e300).message).toMatch(/larger than the ledger can hold/);
    expect(rejection('1'.repeat(81)).message).toMatch(/too long/);
    expect(parseDcc('0e999999999', { sign: 'nonNegative' })).toBe(0n);
  });

  it('checks unit counts given as bigint', () => {
    expect(checkUnits(5n)).toBe(5n);
    expect(() => checkUnits(0n)).toThrow(/greater than zero/);
    expect(() => checkUnits(MAX_UNITS + 1n, { sign: 'any' })).toThrow(/larger than the ledger/);
    expect(() => checkUnits(5 as unknown as bigint)).toThrow(/expected bigint base units/);
  });

  it('formats units as canonical decimal strings', () => {
    expect(formatDcc(0n)).toBe('0');
    expect(formatDcc(1n)).toBe('0.000000001');
    expect(formatDcc(100_000n)).toBe('0.0001');
    expect(formatDcc(12_500_000_000n)).toBe('12.5');
    expect(formatDcc(-3_000_000_000n)).toBe('-3');
    expect(formatDcc(MAX_UNITS)).toBe('9223372036.854775807');
  });

  it('round-trips every formatted amount', () => {
    let seed = 0x2545f491;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const units = (BigInt(seed) * BigInt(seed * 7 + i)) % MAX_UNITS;
      expect(parseDcc(formatDcc(units), { sign: 'any' })).toBe(units);
    }
    expect(dcc('-0.5')).toBe(-500_000_000n);
  });

  it('offers a zod schema that outputs units and reports parse errors as issues', () => {
    const schema = dccAmountSchema({ field: 'amount' });
    expect(schema.parse('0.0001')).toBe(100_000n);
    expect(schema.parse(3)).toBe(3_000_000_000n);
    const bad = schema.safeParse('1e-12');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/more than 9 decimal places/);
    expect(schema.safeParse(null).success).toBe(false);
  });
});
