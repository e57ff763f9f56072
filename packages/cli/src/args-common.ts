import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A command line the user has to fix; main prints the message and the usage. */
export class UsageError extends Error {}

/** Turns the caller's `--data-dir` value (or none) into the data directory. */
export type DataDirOf = (v: unknown) => string;

/** An integer option in [min, max], or undefined when absent. */
export function int(value: string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** node:util parseArgs, strict, its errors as UsageError. */
export function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, allowNegative: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
