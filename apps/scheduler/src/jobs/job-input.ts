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
export const simpleRangeSchema = z.object({
  start: z.number(),
  end: z.number(),
  step: z.number().optional(),
  group: z.number().int().positive().optional(),
});
export type SimpleRange = z.infer<typeof simpleRangeSchema>;

/**
 * dcp-client's MultiRangeObject (`compute.for({ ranges: [...] })`): each slice is a tuple with one
 * value from every constituent (a range, or a plain list of values), the right-most moving fastest.
 */
export interface MultiRange {
  ranges: (SimpleRange | unknown[])[];
}
export type RangeSpec = SimpleRange | MultiRange;

const multiRangeSchema = z.object({
  ranges: z.array(z.union([simpleRangeSchema.loose(), z.array(z.unknown())])).min(1),
});

function stepOf(r: SimpleRange): number {
  return r.step ?? Math.sign(r.end - r.start);
}

function stepCount(r: SimpleRange): number {
  const step = stepOf(r);
  if (step === 0) return 1;
  return Math.floor(Math.abs((r.end - r.start) / step)) + 1;
}

const isMulti = (r: RangeSpec): r is MultiRange => 'ranges' in r;

function partLength(p: SimpleRange | unknown[]): number {
  return Array.isArray(p) ? p.length : rangeLength(p);
}

/** Number of slices of a range: its steps, grouped (a multi-range: the product). Computed, never expanded. */
export function rangeLength(r: RangeSpec): number {
  if (isMulti(r)) return r.ranges.reduce((n: number, p) => n * partLength(p), 1);
  return Math.ceil(stepCount(r) / (r.group ?? 1));
}

/** The datum of 1-based slice `n` of a range (an array of values when grouped, a tuple for a multi-range). */
export function rangeValue(r: RangeSpec, n: number): unknown {
  if (isMulti(r)) {
    const indexes: number[] = [];
    let rest = n - 1;
    for (let k = r.ranges.length - 1; k >= 0; k--) {
      const len = partLength(r.ranges[k] as SimpleRange | unknown[]);
      indexes.unshift(rest % len);
      rest = Math.floor(rest / len);
    }
    return r.ranges.map((p, k) =>
      Array.isArray(p) ? p[indexes[k] as number] : rangeValue(p, (indexes[k] as number) + 1),
    );
  }
  const i = n - 1;
  const step = stepOf(r);
  if (r.group === undefined) return r.start + i * step;
  const out: number[] = [];
  const count = stepCount(r);
  const first = r.group * step * i + r.start;
  for (let k = 0; k < r.group && k + r.group * i < count; k++) out.push(first + k * step);
  return out;
}

export function parseSimpleRange(value: unknown, what: string): SimpleRange {
  const parsed = simpleRangeSchema.safeParse(value);
  if (!parsed.success) throw new DcpError(DcpErrorCode.EINVAL, `${what} must be {start, end, step?, group?}`);
  const r = parsed.data;
  const step = stepOf(r);
  if (![r.start, r.end, step].every(Number.isFinite))
    throw new DcpError(DcpErrorCode.EINVAL, `${what} values must be finite`);
  if (
    (step === 0 && r.start !== r.end) ||
    (step !== 0 && Math.sign(step) !== Math.sign(r.end - r.start) && r.end !== r.start)
  )
    throw new DcpError(DcpErrorCode.EINVAL, `${what} step does not lead from start to end`);
  return { start: r.start, end: r.end, step, ...(r.group ? { group: r.group } : {}) };
}

/**
 * Validate a client's range: a RangeObject (finite numbers, a step that walks from start to end) or
 * a MultiRangeObject of such ranges and value lists.
 */
export function parseRange(value: unknown): RangeSpec {
  if (value && typeof value === 'object' && 'ranges' in value) {
    const parsed = multiRangeSchema.safeParse(value);
    if (!parsed.success)
      throw new DcpError(
        DcpErrorCode.EINVAL,
        'dataRange.ranges must be a non-empty list of {start, end, step?, group?} ranges or value lists',
      );
    const ranges = parsed.data.ranges.map((p, i) =>
      Array.isArray(p) ? p : parseSimpleRange(p, `dataRange.ranges[${i}]`),
    );
    const multi = { ranges };
    if (ranges.some((p) => partLength(p) === 0))
      throw new DcpError(DcpErrorCode.EINVAL, 'dataRange has an empty part');
    if (!Number.isSafeInteger(rangeLength(multi)))
      throw new DcpError(DcpErrorCode.EINVAL, 'dataRange has too many slices');
    return multi;
  }
  return parseSimpleRange(value, 'dataRange');
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

/**
 * An uploaded slice value: a URL (`compute.for([new URL(...)])`, RemoteDataSet) is remote data — the
 * worker fetches it and the slice gets its content — anything else is the datum itself.
 */
export function storeInput(value: unknown, generation: Generation): string {
  if (value instanceof URL && /^(https?|data):$/.test(value.protocol)) return storeUrlInput(value.href);
  return storeKvinInput(value, generation);
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
