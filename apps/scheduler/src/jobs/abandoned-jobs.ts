import { DcpErrorCode } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from './job-lifecycle';

/**
 * A localExec job is computed by its own client: when that client is gone (no subscriber to the
 * job's events and no lease held) for `abandonMs`, nobody will ever finish it, so it is cancelled
 * (its escrow, if any, is released) instead of staying `running` forever.
 */
export class AbandonedJobs {
  readonly #unattendedSince = new Map<string, number>();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
    private readonly abandonMs: number,
  ) {}

  async sweep(): Promise<number> {
    const now = this.ctx.clock.now();
    let cancelled = 0;
    const seen = new Set<string>();
    for (const job of this.ctx.store.runningJobs()) {
      if (!job.options.localExec) continue;
      seen.add(job.id);
      const attended =
        this.ctx.events.subscriberCount(job.id) > 0 || (await this.ctx.store.sliceCounts(job.id)).leased > 0;
      if (attended) {
        this.#unattendedSince.delete(job.id);
        continue;
      }
      const since = this.#unattendedSince.get(job.id) ?? now;
      this.#unattendedSince.set(job.id, since);
      if (now - since < this.abandonMs) continue;
      this.#unattendedSince.delete(job.id);
      if (
        await this.lifecycle.cancel(
          job.id,
          `Job cancelled: its localExec client went away (no client for ${Math.round(this.abandonMs / 1000)} s)`,
          DcpErrorCode.ECANCELLED,
        )
      )
        cancelled++;
    }
    for (const id of this.#unattendedSince.keys()) if (!seen.has(id)) this.#unattendedSince.delete(id);
    return cancelled;
  }
}
