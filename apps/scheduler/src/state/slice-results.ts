/**
 * A result of a running job's slice: the first valid one wins (a late or duplicate one changes
 * nothing); it is journaled with its payment, and the job's counters and measurements move on.
 */
import { DcpErrorCode } from '@dcp-emu/protocol/node';
import type { LiveJob, ResultOutcome, ResultWrite } from './job-record';
import type { Journal } from './journal';
import type { LeaseBook } from './lease-book';

/**
 * Apply one result to the job in memory and the journal. 'accepted': the caller records the job's
 * new state (its row) after it.
 */
export function recordResult(
  live: LiveJob | undefined,
  w: ResultWrite,
  now: number,
  journal: Journal,
  leases: LeaseBook,
): ResultOutcome {
  const tracker = live?.slices;
  if (!live || !tracker) return live ? 'duplicate' : 'unknown';
  if (w.sliceNumber < 1 || w.sliceNumber > tracker.size) return 'unknown';
  const holder = tracker.leases.get(w.sliceNumber)?.worker;
  if (!tracker.complete(w.sliceNumber)) return 'duplicate';
  if (holder !== undefined) leases.unhold(holder, w.jobId, w.sliceNumber);
  const errors = (tracker.errors.get(w.sliceNumber) ?? 0) + (w.isError ? 1 : 0);
  tracker.errors.delete(w.sliceNumber);
  journal.result({
    jobId: w.jobId,
    sliceNumber: w.sliceNumber,
    result: JSON.stringify(w.result),
    isError: w.isError,
    worker: w.worker,
    paymentAddress: w.paymentAddress,
    cpuMs: w.cpuMs,
    gpuMs: w.gpuMs,
    bytesIn: w.bytesIn,
    bytesOut: w.bytesOut,
    completedAt: now,
    attempts: tracker.attempts(w.sliceNumber),
    errors,
    lastError: w.isError ? DcpErrorCode.EUNCAUGHT : null,
  });
  if (w.payment)
    journal.payment({
      jobId: w.jobId,
      sliceNumber: w.sliceNumber,
      worker: w.worker,
      createdAt: now,
      ...w.payment,
    });
  const j = live.record;
  j.completedCount++;
  if (w.isError) j.errorCount++;
  j.sliceCpuMs = (j.sliceCpuMs * j.measuredSlices + w.cpuMs) / (j.measuredSlices + 1);
  j.measuredSlices++;
  j.cpuMs += w.cpuMs;
  j.gpuMs += w.gpuMs;
  j.bytesIn += w.bytesIn;
  j.bytesOut += w.bytesOut;
  return 'accepted';
}
