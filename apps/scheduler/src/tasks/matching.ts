import { getDefaultCrypto, personalHash } from '@dcp-emu/protocol/node';
import type { TaskTuning } from '../config';
import type { JobRecord } from '../store/scheduler-store';

/** DCP's `eh1` hash: 'eh1-' + hex(keccak256 of the personal-sign message of `text`). */
export function eh1(text: string): string {
  return `eh1-${Buffer.from(personalHash(getDefaultCrypto(), text)).toString('hex')}`;
}

/** joinHash of a group from its join key and secret (the public group: key 'public', no secret). */
export function joinHash(joinKey: string, joinSecret?: string): string {
  return eh1(`${joinKey} ${joinSecret}`);
}

/** Every `true` leaf of the job's requirements object must be `true` in the worker's capabilities. */
export function meetsRequirements(requirements: unknown, capabilities: unknown): boolean {
  if (!requirements || typeof requirements !== 'object') return true;
  const caps = (capabilities && typeof capabilities === 'object' ? capabilities : {}) as Record<
    string,
    unknown
  >;
  for (const [k, need] of Object.entries(requirements as Record<string, unknown>)) {
    if (k === 'discrete' || k === 'useStrict') continue;
    if (need === true && caps[k] !== true) return false;
    if (need && typeof need === 'object' && !meetsRequirements(need, caps[k])) return false;
  }
  return true;
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
