import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { parseSimpleRange, rangeLength, rangeValue } from '../jobs/job-input';
import { resultUri } from '../jobs/result-storage';
import { ownedJob } from '../jobs/owned-job';

export const fetchResultSchema = z
  .object({ job: z.string().min(1), owner: z.string().optional(), range: z.unknown().optional() })
  .loose();

const MAX_FETCH = 100_000;

function sliceNumbers(range: unknown, total: number): number[] {
  if (range === undefined || range === null) return Array.from({ length: total }, (_, i) => i + 1);
  if (Array.isArray(range)) return range.map(Number).filter((n) => Number.isInteger(n) && n >= 1);
  const r = parseSimpleRange(range, 'range');
  const count = Math.min(rangeLength(r), MAX_FETCH);
  return Array.from({ length: count }, (_, i) => rangeValue({ ...r, group: undefined }, i + 1) as number);
}

/**
 * `fetchResult`: the results the client missed (after `stop`, or after a reconnect), as
 * `[{slice, value: encodeURIComponent(dataURI)}]`. Identity-authorized; only the owner may read.
 */
export class FetchResult {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(
    data: z.infer<typeof fetchResultSchema>,
    peer: string,
    authorized: (a: string) => boolean,
  ): Promise<{ slice: number; value: string }[]> {
    if (data.owner && !authorized(data.owner))
      throw new DcpError(DcpErrorCode.EPERM, 'fetchResult must be authorized by the owner identity');
    const job = await ownedJob(this.ctx, data.job, peer);
    const wanted = sliceNumbers(data.range, job.sliceCount);
    const out: { slice: number; value: string }[] = [];
    for (let i = 0; i < wanted.length; i += 1000) {
      const slices = await this.ctx.store.slices(job.id, { numbers: wanted.slice(i, i + 1000) });
      for (const s of slices)
        if (s.status === 'done' && s.result)
          out.push({
            slice: s.sliceNumber,
            value: encodeURIComponent(resultUri(s.result, job.generation, job.options.resultStorage)),
          });
    }
    if (!out.length) throw new DcpError(DcpErrorCode.ENOENT, `no results yet for ${job.id}`);
    return out;
  }
}
