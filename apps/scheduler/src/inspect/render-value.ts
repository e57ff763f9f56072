/** Limits of `renderValue`. */
export interface RenderLimits {
  /** characters of one string kept (the rest is cut, with a note) */
  maxString: number;
  /** nesting depth rendered */
  maxDepth: number;
  /** values (object properties, array items, …) rendered in all, per value */
  maxNodes: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxString: 64 * 1024, maxDepth: 32, maxNodes: 20_000 };

/**
 * Any value a job returned or received (JSON or KVIN: cycles, functions, typed arrays, errors,
 * bigints, huge strings) as plain JSON that always serializes: cycles become `"[Circular]"`,
 * functions `"[Function name]"`, what exceeds the limits is cut with a note. Display only.
 */
export function renderValue(value: unknown, limits: RenderLimits = DEFAULT_RENDER_LIMITS): unknown {
  let nodes = 0;
  const ancestors = new Set<object>();

  const render = (v: unknown, depth: number): unknown => {
    nodes++;
    if (v === null || typeof v === 'boolean') return v;
    if (v === undefined) return null;
    if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : String(v);
    if (typeof v === 'string')
      return v.length > limits.maxString
        ? `${v.slice(0, limits.maxString)}… (${v.length} characters, cut)`
        : v;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol') return v.toString();
    if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
    if (typeof v !== 'object') return String(v);
    if (ancestors.has(v)) return '[Circular]';
    if (depth >= limits.maxDepth) return '[… nested too deep]';
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (v instanceof Error) return { error: { name: v.name, message: render(v.message, depth + 1) } };
    ancestors.add(v);
    try {
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
        const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : v;
        const items =
          bytes instanceof DataView
            ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
            : bytes;
        return list(Array.from(items as unknown as ArrayLike<number | bigint>), depth);
      }
      if (Array.isArray(v)) return list(v, depth);
      if (v instanceof Map) return list([...v.entries()], depth);
      if (v instanceof Set) return list([...v.values()], depth);
      const out: Record<string, unknown> = {};
      let keys: string[];
      try {
        keys = Object.keys(v);
      } catch {
        return '[unreadable object]';
      }
      for (const k of keys) {
        if (nodes >= limits.maxNodes) {
          out['…'] = `${keys.length} properties, cut`;
          break;
        }
        let item: unknown;
        try {
          item = (v as Record<string, unknown>)[k];
        } catch {
          item = '[unreadable]';
        }
        out[k] = render(item, depth + 1);
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  };

  const list = (items: readonly unknown[], depth: number): unknown[] => {
    const out: unknown[] = [];
    for (const item of items) {
      if (nodes >= limits.maxNodes) {
        out.push(`… ${items.length - out.length} more items, cut`);
        break;
      }
      out.push(render(item, depth + 1));
    }
    return out;
  };

  return render(value, 0);
}
