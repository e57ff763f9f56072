import { DcpErrorCode, systemClock } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import type { JobRecord } from '../state/job-store';

/** Ends jobs: `stop` finished when every slice is in and done; `stop` cancelled with a reason and code. */
/**
 * How long after a client's last deploy step a finished job's `stop` is held back. dcp-client 5.6.1
 * starts listening for `stop` only once its deploy steps (subscribe, compute groups, upload, close)
 * have all answered; a `stop` that arrives earlier is lost and `exec()` never resolves. A job this fast
 * happens here (a woken worker computes a small job in milliseconds), not on a real network. The
 * wait is dcp-client's real time (a transport matter), so it runs on real time even while the
 * scheduler's virtual clock is frozen: a frozen clock would otherwise hold every `stop` back forever.
 */
const STOP_GRACE_MS = 1_000;

export class JobLifecycle {
  /** jobs whose finish is waiting for the grace period */
  readonly #finishLater = new Set<string>();

  /** `job\nslice` of slices whose worker already told the client about its ENOPROGRESS */
  readonly #noProgressTold = new Set<string>();

  constructor(private readonly ctx: SchedulerContext) {}

  /**
   * The client's `noprogress` event, once per failed attempt: dcp-worker sends it itself (workEmit)
   * before returning the slice with ENOPROGRESS; for a worker that only returns the slice, the
   * scheduler tells the client.
   */
  noProgress(
    jobId: string,
    sliceNumber: number,
    payload: Record<string, unknown>,
    fromWorker: boolean,
  ): void {
    const key = `${jobId}\n${sliceNumber}`;
    if (fromWorker) this.#noProgressTold.add(key);
    else if (this.#noProgressTold.delete(key)) return;
    if (this.#noProgressTold.size > 10_000) this.#noProgressTold.clear();
    this.ctx.events.emit(jobId, 'noprogress', { sliceNumber, ...payload });
  }

  /** Finish the job if its input is closed and every slice has its result. */
  async finishIfDone(job: JobRecord | undefined, graceOver = false): Promise<boolean> {
    if (job?.status !== 'running' || !job.inputClosed) return false;
    if (job.completedCount < job.sliceCount) return false;
    const wait = Math.min(
      STOP_GRACE_MS,
      (this.ctx.store.lastDeployStep(job.id) ?? 0) + STOP_GRACE_MS - this.ctx.clock.now(),
    );
    if (wait > 0 && !graceOver) {
      if (!this.#finishLater.has(job.id)) {
        this.#finishLater.add(job.id);
        systemClock.setTimeout(() => {
          this.#finishLater.delete(job.id);
          void this.finishIfDone(job, true).catch((error) =>
            this.ctx.logger.warn({ job: job.id, err: error }, 'could not finish the job'),
          );
        }, wait);
      }
      return false;
    }
    const ended = await this.ctx.store.endJob(job.id, 'finished', new Date(this.ctx.clock.now()));
    if (!ended) return false;
    this.ctx.logger.info({ job: job.id, slices: ended.sliceCount }, 'job finished');
    this.statusEvent(ended);
    await this.ctx.events.emitReliable(job.id, 'stop', {
      runStatus: 'finished',
      sliceCount: ended.sliceCount,
    });
    this.ctx.escrow.kick(); // what the job still owes is settled, then the rest of its hold released
    return true;
  }

  async cancel(jobId: string, reason: string, code?: string, lastError?: string): Promise<boolean> {
    const ended = await this.ctx.store.endJob(
      jobId,
      'cancelled',
      new Date(this.ctx.clock.now()),
      reason,
      code,
    );
    if (!ended) return false;
    this.ctx.logger.info({ job: jobId, reason, code }, 'job cancelled');
    // SchedMsg `remove` (as DCP's scheduler): workers terminate the job's running sandboxes now
    this.ctx.events.schedMsg('broadcast', 'remove', { jobAddress: jobId });
    await this.ctx.events.emitReliable(jobId, 'stop', {
      runStatus: 'cancelled',
      reason,
      ...(code ? { code } : {}),
      ...(lastError ? { error: { message: lastError } } : {}),
      sliceCount: ended.sliceCount,
    });
    this.ctx.escrow.kick();
    return true;
  }

  /** Too many failed attempts → cancel with the code the client expects. */
  async checkErrors(job: JobRecord, lastCode: string, lastMessage?: string): Promise<boolean> {
    const worstSlice = await this.ctx.store.maxSliceErrors(job.id);
    if (worstSlice < this.ctx.tuning.maxSliceErrors && job.errorCount < this.ctx.tuning.maxJobErrors)
      return false;
    const code =
      lastCode === DcpErrorCode.ENOPROGRESS || lastCode === DcpErrorCode.ESLICETOOSLOW
        ? lastCode
        : DcpErrorCode.ETOOMANYERRORS;
    return this.cancel(
      job.id,
      code === DcpErrorCode.ETOOMANYERRORS
        ? 'Job cancelled: too many slices failed'
        : `Job cancelled: slices failed with ${code}`,
      code,
      lastMessage,
    );
  }

  statusEvent(job: JobRecord, distributed?: number): void {
    this.ctx.events.emit(job.id, 'status', {
      runStatus: job.status,
      total: job.sliceCount,
      distributed: distributed ?? job.sliceCount,
      computed: job.completedCount,
    });
  }
}
