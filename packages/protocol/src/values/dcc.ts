import { DcpError, DcpErrorCode } from '../errors';
import { z } from 'zod';

/**
 * DCC amounts are exact fixed-point numbers: a `bigint` count of base units, 1 DCC = 10^9 units.
 * Floats never hold money: DCP clients send decimal strings (`'12.5'`) or JSON numbers (`0.0001`),
 * which are parsed here digit by digit; amounts leave the bank as decimal strings.
 */
export const DCC_DECIMALS = 9;
export const UNITS_PER_DCC = 10n ** BigInt(DCC_DECIMALS);
/** The largest magnitude the ledger stores: a signed 64-bit column (about 9.2 billion DCC). */
export const MAX_UNITS = 2n ** 63n - 1n;

/** Which signs an amount may have where it is parsed. */
export type AmountSign = 'positive' | 'nonNegative' | 'any';

export interface ParseAmountOptions {
  /** default 'positive': zero and negatives are rejected */
  sign?: AmountSign;
  /** names the field in error messages, e.g. 'amount' */
  field?: string;
}

const MAX_TEXT_LENGTH = 80;
const DECIMAL = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;

function invalid(field: string, input: unknown, why: string): DcpError {
  const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, MAX_TEXT_LENGTH)) : String(input);
  return new DcpError(DcpErrorCode.EINVAL, `invalid ${field} ${shown}: ${why}`, { field });
}

/** Checks that a unit count fits the ledger and has an allowed sign. */
export function checkUnits(units: bigint, options: ParseAmountOptions = {}): bigint {
  const field = options.field ?? 'amount';
  const sign = options.sign ?? 'positive';
  if (typeof units !== 'bigint')
    throw invalid(field, units, `expected bigint base units, got ${typeof units}`);
  if (units > MAX_UNITS || units < -MAX_UNITS)
    throw invalid(field, formatDcc(units), 'larger than the ledger can hold');
  if (sign === 'positive' && units <= 0n) throw invalid(field, formatDcc(units), 'must be greater than zero');
  if (sign === 'nonNegative' && units < 0n) throw invalid(field, formatDcc(units), 'must not be negative');
  return units;
}

/**
 * Parses a DCC amount given as a decimal string or a JSON number into base units, exactly.
 * Accepts `12`, `'12.5'`, `0.0001`, `'1e-9'` and `'2.5E3'`; rejects more than 9 significant decimals,
 * NaN, infinities, empty or malformed text, bigints (ambiguous: units or DCC?) and other types, and
 * values outside the allowed sign or range. Errors are `DcpError`s with code EINVAL.
 */
export function parseDcc(input: unknown, options: ParseAmountOptions = {}): bigint {
  const field = options.field ?? 'amount';
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw invalid(field, input, 'not a finite number');
    // The shortest round-trip text of a double is the decimal the sender wrote (0.0001 → '0.0001').
    text = Object.is(input, -0) ? '0' : String(input);
  } else if (typeof input === 'string') {
    text = input.trim();
    if (text.length === 0) throw invalid(field, input, 'empty');
    if (text.length > MAX_TEXT_LENGTH) throw invalid(field, input, 'too long');
  } else {
    throw invalid(field, input, `expected a decimal string or number, got ${typeof input}`);
  }
  const m = DECIMAL.exec(text);
  if (!m) throw invalid(field, input, 'not a decimal number');
  const [, signText, intPart, fracA, fracB, expText] = m;
  const fraction = fracA ?? fracB ?? '';
  let digits = `${intPart ?? ''}${fraction}`.replace(/^0+(?=\d)/, '');
  let exponent = expText === undefined ? 0 : Number(expText);
  if (!Number.isSafeInteger(exponent)) throw invalid(field, input, 'exponent out of range');
  // value = digits × 10^(exponent − fraction.length); drop exact trailing zeros first.
  exponent -= fraction.length;
  while (digits.length > 1 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent += 1;
  }
  if (/^0*$/.test(digits)) {
    digits = '0';
    exponent = 0;
  }
  const scale = exponent + DCC_DECIMALS;
  if (scale < 0) throw invalid(field, input, `more than ${DCC_DECIMALS} decimal places`);
  // 19 digits already exceed MAX_UNITS; refuse before building a huge bigint.
  if (digits !== '0' && digits.length + scale > 19)
    throw invalid(field, input, 'larger than the ledger can hold');
  let units = BigInt(digits) * 10n ** BigInt(scale);
  if (signText === '-') units = -units;
  return checkUnits(units, options);
}

/** Base units → the canonical decimal string: no exponent, no trailing zeros (`12.5`, `0.0001`, `-3`, `0`). */
export function formatDcc(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / UNITS_PER_DCC;
  const frac = (abs % UNITS_PER_DCC).toString().padStart(DCC_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Test and config helper: `dcc('12.5')` → 12_500_000_000n (any sign). */
export function dcc(text: string): bigint {
  return parseDcc(text, { sign: 'any' });
}

/**
 * A zod schema for a DCC amount in a message or REST body: a decimal string or JSON number,
 * output as base units. Issues carry the same messages as `parseDcc`.
 */
export function dccAmountSchema(options: ParseAmountOptions = {}) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parseDcc(value, options);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      return z.NEVER;
    }
  });
}

/** Units as they travel in JSON: the canonical decimal string. */
export const dccJson = formatDcc;
