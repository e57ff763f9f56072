import { type DcpSession, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from '../jobs/job-lifecycle';
import {
  type AuthorizationMessage,
  authorizationMessageSchema,
  type TaskAuthorizations,
} from '../results/authorization';
import type { LeaseKeeper } from './lease-keeper';
import { workerKey } from './request-task.usecase';

/** `status` from a worker: slices it `begin`s, and slices it `return`s with a reason. */
export const sliceStatusSchema = z
  .object({
    worker: z.string().optional(),
    slices: z
      .array(
        z
          .object({
            sliceNumbers: z.array(z.number().int()),
            job: z.string(),
            authorizationMessage: authorizationMessageSchema.optional(),
            status: z.string(),
            reason: z.unknown().optional(),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();

/** Return reasons that say nothing about the job (the worker is stopping, too busy, …). */
const BENIGN = /^(stopWork|JobManager|repoMan|late |return duplicate|Worker wanted|Canceled via)/;

/**
 * Codes that say the stack itself failed (a result the scheduler could not take, a connection that
 * broke): the slice goes back in the queue, but they never count against the job.
 */
const NOT_THE_JOBS_FAULT = new Set<string>([
  DcpErrorCode.EINTERNAL,
  DcpErrorCode.ETIMEDOUT,
  DcpErrorCode.ECONNRESET,
  DcpErrorCode.EPIPE,
  DcpErrorCode.ECONNREFUSED,
]);

/** The DCP error code a return reason carries, or undefined for a benign return. */
export function returnErrorCode(reason: unknown): string | undefined {
  let code: string | undefined;
  if (reason && typeof reason === 'object') {
    const r = reason as { errorCode?: unknown; code?: unknown };
    code = String(r.errorCode ?? r.code ?? DcpErrorCode.EWORKREJECT);
  } else if (typeof reason === 'string' && reason && !BENIGN.test(reason))
    code = /^E[A-Z_]+$/.test(reason) ? reason : undefined;
  return code && NOT_THE_JOBS_FAULT.has(code) ? undefined : code;
}

/**
 * `begin` keeps the worker's leases alive; `return` puts the slices back in the queue at once. A
 * return with an error code (ENOPROGRESS, EUNCAUGHT, …) counts as a failed attempt, and too many
 * cancel the job with the code the client expects.
 */
export class SliceStatus {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
    private readonly leases: LeaseKeeper,
    private readonly authorizations: TaskAuthorizations,
  ) {}

  async execute(
    data: z.infer<typeof sliceStatusSchema>,
    peer: string,
    session: DcpSession,
  ): Promise<{ success: true }> {
    const key = workerKey(peer, data.worker);
    this.leases.alive(key, session);
    for (const bucket of data.slices) {
      this.authorizations.check(
        bucket.authorizationMessage as AuthorizationMessage | undefined,
        bucket.job,
        bucket.sliceNumbers,
      );
      if (bucket.status !== 'return') continue;
      const code = returnErrorCode(bucket.reason);
      const n = this.ctx.store.requeue(bucket.job, bucket.sliceNumbers, key, this.ctx.clock.now(), code);
      if (n) this.leases.requeued();
      if (n && code === DcpErrorCode.ENOPROGRESS)
        for (const slice of bucket.sliceNumbers)
          this.lifecycle.noProgress(
            bucket.job,
            slice,
            {
              message:
                typeof bucket.reason === 'string'
                  ? bucket.reason
                  : 'the slice did not call progress() often enough and was stopped',
              timestamp: this.ctx.clock.now(),
            },
            false,
          );
      this.ctx.logger.info(
        { job: bucket.job, slices: bucket.sliceNumbers, reason: bucket.reason, requeued: n },
        'slices returned',
      );
      if (code && n) {
        const job = await this.ctx.store.getJob(bucket.job);
        if (job?.status === 'running')
          await this.lifecycle.checkErrors(
            job,
            code,
            typeof bucket.reason === 'string' ? bucket.reason : undefined,
          );
      }
    }
    return { success: true };
  }
}
