/** DCC amounts are decimal strings with up to 18 decimals; sums are done in base units to stay exact. */
const DECIMALS = 18;
const SCALE = 10n ** BigInt(DECIMALS);

/** `"1.5"` → 1500000000000000000n; anything that is not a decimal number counts as 0. */
export function toUnits(amount: string): bigint {
  const m = /^([-+]?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) return 0n;
  const frac = (m[3] ?? '').slice(0, DECIMALS).padEnd(DECIMALS, '0');
  const units = BigInt(m[2] as string) * SCALE + BigInt(frac);
  return m[1] === '-' ? -units : units;
}

/** Base units back to the shortest decimal string (`"1.5"`, `"-0.25"`, `"3"`). */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const frac = (abs % SCALE).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / SCALE}${frac ? `.${frac}` : ''}`;
}

/** Sum of decimal DCC strings. */
export function sumDcc(amounts: readonly string[]): string {
  return fromUnits(amounts.reduce((s, a) => s + toUnits(a), 0n));
}

/** For display: at most `digits` decimals, trailing zeros dropped. */
export function shortDcc(amount: string, digits = 6): string {
  const units = toUnits(amount);
  const step = 10n ** BigInt(DECIMALS - digits);
  const rounded = units >= 0n ? ((units + step / 2n) / step) * step : -((-units + step / 2n) / step) * step;
  return fromUnits(rounded);
}
