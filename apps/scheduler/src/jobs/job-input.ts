import {
  DcpError,
  DcpErrorCode,
  type Generation,
  kvinFor,
  kvinVersionOf,
  parseKvin,
  unmarshalKvin,
} from '@dcp-emu/protocol/node';
import { z } from 'zod';

/** A RangeObject as dcp-client sends it (`compute.for(start, end, step)`), with optional grouping. */
export const rangeSchema = z.object({
  start: z.number(),
  end: z.number(),
  step: z.number().optional(),
  group: z.number().int().positive().optional(),
});
export type RangeSpec = z.infer<typeof rangeSchema>;

function stepOf(r: RangeSpec): number {
  return r.step ?? Math.sign(r.end - r.start);
}

function stepCount(r: RangeSpec): number {
  const step = stepOf(r);
  if (step === 0) return 1;
  return Math.floor(Math.abs((r.end - r.start) / step)) + 1;
}

/** Number of slices of a range: its steps, grouped. Computed, never expanded. */
export function rangeLength(r: RangeSpec): number {
  return Math.ceil(stepCount(r) / (r.group ?? 1));
}

/** The datum of 1-based slice `n` of a range (an array of values when grouped). */
export function rangeValue(r: RangeSpec, n: number): number | number[] {
  const i = n - 1;
  const step = stepOf(r);
  if (r.group === undefined) return r.start + i * step;
  const out: number[] = [];
  const count = stepCount(r);
  const first = r.group * step * i + r.start;
  for (let k = 0; k < r.group && k + r.group * i < count; k++) out.push(first + k * step);
  return out;
}

/** Validate a client's range: finite numbers, a step that walks from start to end. */
export function parseRange(value: unknown): RangeSpec {
  const parsed = rangeSchema.safeParse(value);
  if (!parsed.success)
    throw new DcpError(DcpErrorCode.EINVAL, 'dataRange must be {start, end, step?, group?}');
  const r = parsed.data;
  const step = stepOf(r);
  if (![r.start, r.end, step].every(Number.isFinite))
    throw new DcpError(DcpErrorCode.EINVAL, 'dataRange values must be finite');
  if (
    (step === 0 && r.start !== r.end) ||
    (step !== 0 && Math.sign(step) !== Math.sign(r.end - r.start) && r.end !== r.start)
  )
    throw new DcpError(DcpErrorCode.EINVAL, 'dataRange step does not lead from start to end');
  return { ...r, step };
}

/**
 * How a slice input is stored: `k:` + KVIN text (uploaded values), or `u:` + URL (localExec files,
 * remote data sets). Range slices store nothing.
 */
export function storeKvinInput(value: unknown, generation: Generation): string {
  return `k:${kvinFor(generation).serialize(value)}`;
}

export function storeUrlInput(url: string): string {
  return `u:${url}`;
}

/** KVIN text readable by a peer of `generation` (4.x cannot read v9: re-serialize). */
export function kvinTextFor(text: string, generation: Generation): string {
  if (generation === 4 && kvinVersionOf(text) === 'v9') return kvinFor(4).serialize(parseKvin(text));
  return text;
}

export function kvinDataUri(text: string): string {
  return `data:application/x-kvin,${encodeURI(text)}`;
}

/** The datum URI a worker of `generation` fetches for a stored input. */
export function datumUri(
  input: string | null,
  range: RangeSpec | undefined,
  n: number,
  generation: Generation,
): string {
  if (input === null) {
    if (!range) throw new DcpError(DcpErrorCode.EINTERNAL, `slice ${n} has no input`);
    return `data:application/json,${encodeURI(JSON.stringify(rangeValue(range, n)))}`;
  }
  if (input.startsWith('u:')) return input.slice(2);
  return kvinDataUri(kvinTextFor(input.slice(2), generation));
}

/** The datum value of a stored input (inspection API). */
export function decodeInput(input: string | null, range: RangeSpec | undefined, n: number): unknown {
  if (input === null) return range ? rangeValue(range, n) : undefined;
  if (input.startsWith('u:')) return input.slice(2);
  return parseKvin(input.slice(2));
}

/** A work-function argument: a URL the worker fetches, or a serialized job value. */
export type JobArgument = { url: string } | { string: string; method: 'json' | 'kvin'; MIMEType?: string };

/** `marshaledArguments` (KVIN prepared list of URLs and job values) → our argument list. */
export function parseArguments(marshaled: unknown): JobArgument[] {
  if (marshaled === undefined || marshaled === null) return [];
  let list: unknown;
  try {
    list = unmarshalKvin(marshaled);
  } catch (error) {
    throw new DcpError(DcpErrorCode.EINVAL, `marshaledArguments is not KVIN: ${String(error)}`);
  }
  if (!Array.isArray(list)) throw new DcpError(DcpErrorCode.EINVAL, 'marshaledArguments must be a list');
  return list.map((item, i): JobArgument => {
    if (item instanceof URL) return { url: item.href };
    if (typeof item === 'string' && /^(https?|data|file):/.test(item)) return { url: item };
    const v = z
      .object({ string: z.string(), method: z.enum(['json', 'kvin']), MIMEType: z.string().optional() })
      .safeParse(item);
    if (!v.success) throw new DcpError(DcpErrorCode.EINVAL, `argument ${i} is neither a URL nor a job value`);
    return v.data;
  });
}

/** Where a worker of `generation` fetches an argument. */
export function argumentUri(arg: JobArgument, generation: Generation): string {
  if ('url' in arg) return arg.url;
  if (arg.method === 'json') return `data:application/json,${encodeURI(arg.string)}`;
  return kvinDataUri(kvinTextFor(arg.string, generation));
}

/** A result as a job value, turned into the data: URI a client of `generation` decodes. */
export function resultDataUri(
  result: { string: string; method: 'json' | 'kvin' },
  generation: Generation,
): string {
  if (result.method === 'json') return `data:application/json,${encodeURI(result.string)}`;
  return kvinDataUri(kvinTextFor(result.string, generation));
}

/** KVIN-prepared console arguments re-marshalled for a client of `generation`. */
export function remarshal(prepared: unknown, generation: Generation): unknown {
  if (prepared === undefined) return undefined;
  return kvinFor(generation).marshal(unmarshalKvin(prepared));
}
