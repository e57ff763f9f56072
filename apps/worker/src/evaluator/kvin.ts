import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The part of the kvin packages the evaluator host uses. */
export interface Kvin {
  marshal(value: unknown): Record<string, unknown>;
  unmarshal(value: unknown): unknown;
}

const load = createRequire(__filename);

/** KVIN v8 (kvin 1.2.17, what dcp-worker 3.3.19's supervisor speaks) and v9 (kvin 9). */
export const kvinV8 = load('kvin-v8') as Kvin;
export const kvinV9 = load('kvin') as Kvin;

export type KvinVersion = 'v8' | 'v9';

export function kvinFor(version: KvinVersion): Kvin {
  return version === 'v8' ? kvinV8 : kvinV9;
}

/** The peer's KVIN version, read from the `_serializeVerId` of a marshalled message. */
export function kvinVersionOf(message: Record<string, unknown>): KvinVersion | undefined {
  const v = message._serializeVerId;
  if (v === 'v8') return 'v8';
  if (typeof v === 'string') return 'v9';
  return undefined;
}

/** Sources of both KVIN builds, evaluated inside every sandbox (never shared objects). */
export function kvinSources(): { v8: string; v9: string } {
  return {
    v8: readFileSync(load.resolve('kvin-v8/kvin.js'), 'utf8'),
    v9: readFileSync(load.resolve('kvin/kvin.js'), 'utf8'),
  };
}
