import { inspect } from 'node:util';
import type { SliceOutcome } from '@dcp-emu/worker-core';

/** The outcome as JSON: a result as plain JSON and as Node prints it; an error's name, message, stack. */
export function describeOutcome(o: SliceOutcome): Record<string, unknown> {
  switch (o.kind) {
    case 'complete':
      return {
        kind: 'complete',
        result: plainJson(o.result),
        text: inspect(o.result, { depth: 8, colors: false, maxArrayLength: 200 }),
        measurement: o.measurement,
      };
    case 'workError': {
      const e = o.error;
      return {
        kind: 'workError',
        error: {
          name: typeof e.name === 'string' ? e.name : 'Error',
          message: typeof e.message === 'string' ? e.message : String(e.message ?? ''),
          ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
          ...(e.code !== undefined ? { code: String(e.code) } : {}),
        },
        measurement: o.measurement,
      };
    }
    case 'workReject':
      return { kind: 'workReject', reason: plainJson(o.reason), retries: o.retries };
    case 'failed':
      return { kind: 'failed', code: o.code, message: o.message };
  }
}

/** Any value as JSON that always serializes (cycles, bigints, typed arrays, maps, undefined). */
export function plainJson(value: unknown): unknown {
  const seen = new Set<object>();
  const walk = (v: unknown): unknown => {
    if (v === undefined) return null;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
    if (typeof v === 'symbol') return v.toString();
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    try {
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      if (v instanceof Error) return { error: { name: v.name, message: v.message } };
      if (ArrayBuffer.isView(v) && !(v instanceof DataView))
        return Array.from(v as unknown as ArrayLike<number | bigint>, walk);
      if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
      if (Array.isArray(v)) return v.map(walk);
      if (v instanceof Map) return [...v.entries()].map(walk);
      if (v instanceof Set) return [...v.values()].map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value);
}
