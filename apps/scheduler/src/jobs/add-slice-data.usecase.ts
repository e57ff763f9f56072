import { DcpError, DcpErrorCode, type Generation, unmarshalKvin } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { storeInput } from './job-input';
import { ownedRunningJob } from './owned-job';

export const addSliceDataSchema = z.object({ job: z.string().min(1), dataValues: z.unknown() }).loose();

/** `addSliceData`: append a pile of uploaded inputs (KVIN-marshalled list) to an open array job. */
export class AddSliceData {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(
    data: z.infer<typeof addSliceDataSchema>,
    peer: string,
    generation: Generation,
  ): Promise<{ lastSliceNumber: number }> {
    const job = await ownedRunningJob(this.ctx, data.job, peer);
    if (job.inputClosed || job.inputKind !== 'array')
      throw new DcpError(DcpErrorCode.EJOBSTATE, `job ${job.id} takes no more slices`);
    let values: unknown;
    try {
      values = unmarshalKvin(data.dataValues);
    } catch (error) {
      throw new DcpError(DcpErrorCode.EINVAL, `dataValues is not KVIN: ${String(error)}`);
    }
    if (!Array.isArray(values)) throw new DcpError(DcpErrorCode.EINVAL, 'dataValues must be a list');
    const inputs = values.map((v) => storeInput(v, generation));
    const last = await this.ctx.store.appendSlices(job.id, inputs, new Date(this.ctx.clock.now()));
    // The slices are kept either way; a short account pauses the job until it is funded.
    await this.ctx.escrow.fund(job.id, last);
    this.ctx.events.wakeWorkers();
    return { lastSliceNumber: last };
  }
}
