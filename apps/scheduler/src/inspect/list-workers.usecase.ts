import type { SchedulerAnswer } from '@dcp-emu/contracts';
import type { SchedulerContext } from '../context';
import type { LeaseKeeper } from '../tasks/lease-keeper';

/**
 * `GET /api/workers`: those that asked for work (connected, or gone within a lease period) with
 * what they said (identity, payment address, cores, verified groups), and every holder of leased
 * slices.
 */
export class ListWorkers {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly leases: LeaseKeeper,
  ) {}

  async execute(): Promise<SchedulerAnswer<'WorkerList'>> {
    const leased = new Map((await this.ctx.store.workers()).map((w) => [w.worker, w.slices]));
    const seen = this.leases.connected();
    return {
      workers: [
        ...seen.map((w) => ({ ...w, slices: leased.get(w.worker) ?? [] })),
        ...[...leased]
          .filter(([worker]) => !seen.some((w) => w.worker === worker))
          .map(([worker, slices]) => ({ worker, slices })),
      ],
    };
  }
}
