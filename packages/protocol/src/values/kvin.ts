import type { Generation } from '../messages';

/** The part of the kvin API we use (kvin 9.0.0 = v9 for dcp-client 5.x; kvin 1.2.17 = v8 for 4.x). */
export interface Kvin {
  /** value → prepared object `{_serializeVerId, what}` */
  marshal(value: unknown): { _serializeVerId: string; what: unknown };
  unmarshal(prepared: unknown): unknown;
  /** value → JSON text of the prepared object */
  serialize(value: unknown): string;
  parse(text: string): unknown;
  userCtors: Record<string, unknown>;
}

interface KvinModule extends Kvin {
  KVIN: new (ctors?: unknown) => Kvin;
}

/** dcp-client's own constructors as they travel in KVIN; we decode them to plain equivalents. */
class DcpAddress extends String {}

function instance(mod: KvinModule): Kvin {
  const k = new mod.KVIN();
  // a private table: the module-level userCtors object is shared with anything else using kvin
  k.userCtors = { dcpUrl$$DcpURL: URL, DcpURL: URL, dcpEth$$Address: DcpAddress, Address: DcpAddress };
  return k;
}

const kvin9 = instance(require('kvin') as KvinModule);
const kvin8 = instance(require('kvin-v8') as KvinModule);

/** The serializer a peer generation reads: v9 for 5.x, v8 for 4.x (4.x cannot read v9). */
export function kvinFor(generation: Generation): Kvin {
  return generation === 4 ? kvin8 : kvin9;
}

/** kvin v9's parser reads both v8 and v9 text. */
export function parseKvin(text: string): unknown {
  return kvin9.parse(text);
}

/**
 * A marshaled value (`{_serializeVerId, what}`) → the value. kvin marks the nodes it has read
 * (`used: true`) in the tree it is given, so it works on a copy: the caller's tree may be part of a
 * signed request payload that must stay exactly as it arrived (it is forwarded and re-verified).
 */
export function unmarshalKvin(prepared: unknown): unknown {
  return kvin9.unmarshal(structuredClone(prepared));
}

/** Version id a serialized value carries ('v8' or 'v9'), or undefined when not KVIN. */
export function kvinVersionOf(text: string): string | undefined {
  const m = /^\s*\{\s*"_serializeVerId"\s*:\s*"(v\d+)"/.exec(text);
  return m?.[1];
}

function rewriteUrls(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteUrls);
  if (!node || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if (o.ctr === 18 && typeof o.arg === 'string' && 'ps' in o)
    return { ctr: 'dcpUrl$$DcpURL', ps: o.ps, arg: o.arg };
  if ('raw' in o) return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = rewriteUrls(v);
  return out;
}

/**
 * Serialize a dcp-client configuration for `/etc/dcp-config.kvin`: v9 for 5.x (`?ver=2.1.0`),
 * v8 for 4.x (`?ver=2.0.0`). URL values (service `location`s) become DcpURL objects in 5.x and URL
 * objects in 4.x, so dcp-client sees URLs, never strings.
 */
export function encodeConfig(config: unknown, generation: Generation): string {
  const prepared = kvinFor(generation).marshal(config);
  if (generation === 4) return JSON.stringify(prepared);
  return JSON.stringify({ _serializeVerId: prepared._serializeVerId, what: rewriteUrls(prepared.what) });
}
