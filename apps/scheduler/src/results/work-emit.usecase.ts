import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { remarshal } from '../jobs/job-input';
import type { JobLifecycle } from '../jobs/job-lifecycle';

/** `workEmit` from a worker: console lines, errors, no-progress notices and `work.emit` events. */
export const workEmitSchema = z
  .object({
    eventName: z.string(),
    payload: z.record(z.string(), z.unknown()).default({}),
    job: z.string(),
    slice: z.number().int().optional(),
    worker: z.string().optional(),
  })
  .loose();

/** Turns a worker's sandbox event into the client's `console` / `error` / `noprogress` / `custom` event. */
export class WorkEmit {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
  ) {}

  async execute(data: z.infer<typeof workEmitSchema>): Promise<{ ok: true }> {
    const job = await this.ctx.store.getJob(data.job);
    if (!job) return { ok: true };
    const p = data.payload;
    const sliceNumber = data.slice;
    switch (data.eventName) {
      case 'console': {
        let message: unknown;
        try {
          message = p.message === undefined ? undefined : remarshal(p.message, job.generation);
        } catch (error) {
          throw new DcpError(DcpErrorCode.EINVAL, `console message is not marshalled KVIN: ${String(error)}`);
        }
        this.ctx.events.emit(job.id, 'console', {
          sliceNumber,
          level: p.level ?? 'log',
          ...(message === undefined ? {} : { message }),
          same: p.same ?? 1,
        });
        break;
      }
      case 'error':
        this.ctx.events.emit(job.id, 'error', {
          sliceNumber,
          name: p.name,
          message: p.message,
          stack: p.stack,
          code: p.code,
          timestamp: p.timestamp,
        });
        break;
      case 'noProgress':
      case 'noprogress':
        if (sliceNumber !== undefined) this.lifecycle.noProgress(job.id, sliceNumber, p, true);
        else this.ctx.events.emit(job.id, 'noprogress', { ...p });
        break;
      case 'custom':
        this.ctx.events.emit(job.id, 'custom', {
          sliceNumber,
          customEvent: p.customEvent,
          data: p.data,
        });
        break;
      default:
        this.ctx.events.emit(job.id, data.eventName, { sliceNumber, ...p });
    }
    return { ok: true };
  }
}
