import { sameAddress } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from './job-lifecycle';

/** `cancelAllJobs {paymentAccount, reason}` (dcp-util's `job-utility cancelAllJobs`). */
export const cancelAllJobsSchema = z
  .object({
    paymentAccount: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address (0x + 40 hex digits)'),
    reason: z.string().min(1).max(500),
  })
  .loose();

/**
 * `cancelAllJobs`: every running job paid from `paymentAccount` that the signer may cancel — the
 * jobs it deployed or pays for, as `cancelJob` allows — is cancelled with `reason`; nobody else's.
 */
export class CancelAllJobs {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async execute(
    data: z.infer<typeof cancelAllJobsSchema>,
    peer: string,
  ): Promise<{ success: true; cancelled: string[] }> {
    const jobs = await this.ctx.store.listJobs({
      status: ['running'],
      accounts: [peer, peer.toLowerCase()],
      limit: 10_000,
    });
    const cancelled: string[] = [];
    for (const job of jobs) {
      if (!sameAddress(job.paymentAccount, data.paymentAccount)) continue;
      if (!sameAddress(job.owner, peer) && !sameAddress(job.paymentAccount, peer)) continue;
      if (await this.lifecycle.cancel(job.id, data.reason)) cancelled.push(job.id);
    }
    this.ctx.logger.info({ by: peer, paymentAccount: data.paymentAccount, cancelled }, 'cancelAllJobs');
    return { success: true, cancelled };
  }
}
