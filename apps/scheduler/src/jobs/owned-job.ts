import { DcpError, DcpErrorCode, sameAddress } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import type { JobRecord } from '../state/job-store';

/**
 * The job, if it exists and `peer` deployed it (or, with `orPayer`, is its payment account: 5.x
 * `job.cancel()` opens its connection with the payment keystore as identity).
 */
export async function ownedJob(
  ctx: SchedulerContext,
  id: string,
  peer: string,
  orPayer = false,
): Promise<JobRecord> {
  const job = await ctx.store.getJob(id);
  if (!job) throw new DcpError(DcpErrorCode.ENOENT, `no job ${id}`);
  if (!sameAddress(job.owner, peer) && !(orPayer && sameAddress(job.paymentAccount, peer)))
    throw new DcpError(DcpErrorCode.EPERM, `job ${id} belongs to another identity`);
  return job;
}

export async function ownedRunningJob(ctx: SchedulerContext, id: string, peer: string): Promise<JobRecord> {
  const job = await ownedJob(ctx, id, peer);
  if (job.status !== 'running') throw new DcpError(DcpErrorCode.EJOBSTATE, `job ${id} is ${job.status}`);
  return job;
}
