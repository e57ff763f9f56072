import { getDefaultCrypto, personalHash } from '@dcp-emu/protocol/node';
import type { TaskTuning } from '../config';
import type { JobRecord } from '../state/job-store';

/** DCP's `eh1` hash: 'eh1-' + hex(keccak256 of the personal-sign message of `text`). */
export function eh1(text: string): string {
  return `eh1-${Buffer.from(personalHash(getDefaultCrypto(), text)).toString('hex')}`;
}

/** joinHash of a group from its join key and secret (the public group: key 'public', no secret). */
export function joinHash(joinKey: string, joinSecret?: string): string {
  return eh1(`${joinKey} ${joinSecret}`);
}

/**
 * dcp-client 5.x capability bits (`common/scheduler-constants.js` `capabilities`): 5.x jobs send their
 * requirements as such a mask (`submit@5` `requirements`, always with KVINv9), 5.x workers and
 * localExec their `capabilities` (`requestTask@3`).
 */
export const CAPABILITY_BITS = {
  engine: { v8: 1 << 0, spidermonkey: 1 << 1, browser: 1 << 2 },
  environment: { offscreenCanvas: 1 << 3, fdlibm: 1 << 4, webgpu: 1 << 5 },
  KVINv9: 1 << 6,
} as const;

type BitTree = { readonly [k: string]: number | BitTree };

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A requirements/capabilities tree → its bit mask (5.x `capabilities.toBits`): truthy known leaves. */
export function toCapabilityBits(tree: unknown, bits: BitTree = CAPABILITY_BITS): number {
  const t = asRecord(tree);
  let mask = 0;
  for (const [k, bit] of Object.entries(bits))
    mask |= typeof bit === 'number' ? (t[k] ? bit : 0) : toCapabilityBits(t[k], bit);
  return mask;
}

/** A bit mask → its tree, every known leaf true or false (5.x `capabilities.fromBits`). */
export function fromCapabilityBits(mask: number, bits: BitTree = CAPABILITY_BITS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, bit] of Object.entries(bits))
    out[k] = typeof bit === 'number' ? (mask & bit) !== 0 : fromCapabilityBits(mask, bit);
  return out;
}

/**
 * The mask of a worker's capabilities: 5.x workers send it as is; 4.x workers (dcp-worker 3.3.19) send
 * the tree their evaluator's `describe` returned, which has no `engine.v8` (a V8 evaluator reports
 * `spidermonkey:false`) and no KVINv9: they take 5.x jobs, whose clients read their KVIN v8 results.
 */
export function workerCapabilityBits(capabilities: unknown): number {
  if (typeof capabilities === 'number') return capabilities;
  const engine = asRecord(asRecord(capabilities).engine);
  let mask = toCapabilityBits(capabilities) | CAPABILITY_BITS.KVINv9;
  if (engine.v8 ?? (!engine.spidermonkey && !engine.browser)) mask |= CAPABILITY_BITS.engine.v8;
  return mask;
}

/**
 * Can a worker with `capabilities` run a job with `requirements`? A 5.x mask needs every bit present
 * in the worker's mask; a 4.x tree needs every `true` leaf `true` in the worker's tree (a 5.x worker's
 * mask read as a tree). `discrete` and `useStrict` are job options, not capabilities.
 */
export function meetsRequirements(requirements: unknown, capabilities: unknown): boolean {
  if (typeof requirements === 'number') {
    const has = workerCapabilityBits(capabilities);
    return (requirements & ~has) === 0;
  }
  if (!requirements || typeof requirements !== 'object') return true;
  const caps = typeof capabilities === 'number' ? fromCapabilityBits(capabilities) : asRecord(capabilities);
  return meetsTree(requirements as Record<string, unknown>, caps, true);
}

function meetsTree(
  requirements: Record<string, unknown>,
  caps: Record<string, unknown>,
  top: boolean,
): boolean {
  for (const [k, need] of Object.entries(requirements)) {
    if (top && (k === 'discrete' || k === 'useStrict')) continue;
    if (need === true && caps[k] !== true) return false;
    if (
      need &&
      typeof need === 'object' &&
      !meetsTree(need as Record<string, unknown>, asRecord(caps[k]), false)
    )
      return false;
  }
  return true;
}

/**
 * The requirements object a 4.x worker's sandbox applies (`applyRequirements`; `environment` must be
 * an object): a 4.x job's own tree, or the `true` environment leaves of a 5.x job's mask.
 */
export function sandboxRequirements(
  requirements: unknown,
  flags: { discrete: boolean; useStrict: boolean },
): Record<string, unknown> {
  if (requirements && typeof requirements === 'object')
    return { environment: {}, ...(requirements as Record<string, unknown>) };
  const environment: Record<string, boolean> = {};
  if (typeof requirements === 'number')
    for (const [k, v] of Object.entries(
      fromCapabilityBits(requirements).environment as Record<string, boolean>,
    ))
      if (v) environment[k] = true;
  return { environment, discrete: flags.discrete, useStrict: flags.useStrict };
}

/** DCC a job pays per slice: its absolute offer, else the market-value multiple. */
export function perSliceOffer(job: JobRecord, tuning: TaskTuning): number {
  return job.absolutePayment || job.mvMultiplier * tuning.marketRate;
}

/** Does the job pay at least the worker's minimum wage (DCC per CPU-hour)? Unmeasured jobs pass. */
export function paysMinimumWage(
  job: JobRecord,
  tuning: TaskTuning,
  wage: { CPU?: number } | undefined,
): boolean {
  const min = wage?.CPU ?? 0;
  if (min <= 0 || job.sliceCpuMs <= 0 || job.options.localExec) return true;
  return perSliceOffer(job, tuning) / (job.sliceCpuMs / 3_600_000) >= min;
}

/** Slices of a job for one task: enough to keep `cores` busy for the target duration. */
export function taskSize(job: JobRecord, cores: number, tuning: TaskTuning): number {
  if (job.options.discrete) return 1;
  if (job.measuredSlices === 0 || job.sliceCpuMs <= 0) return Math.max(1, cores);
  const perCore = Math.floor((tuning.targetTaskSeconds * 1000) / Math.max(job.sliceCpuMs, 1));
  return Math.max(1, Math.min(tuning.maxTaskSlices, perCore * Math.max(1, cores)));
}
