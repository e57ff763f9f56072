import { DcpError, DcpErrorCode, dataUri, jobValue, parseKvin, unmarshalKvin } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { JobLifecycle } from '../jobs/job-lifecycle';
import type { ResultOutcome, ResultWrite } from '../state/job-store';
import type { LeaseKeeper } from '../tasks/lease-keeper';
import { jobMetrics, workerKey } from '../tasks/request-task.usecase';
import {
  type AuthorizationMessage,
  authorizationMessageSchema,
  type TaskAuthorizations,
} from './authorization';
import type { ResultFeed } from './result-feed';
import { TickBatcher } from './tick-batcher';

const num = z.number().optional();

/** `result` from a worker: one slice's value (resultV2 job value, or a data: URI) and its metering. */
export const resultSchema = z
  .object({
    slice: z.number().int().min(1),
    job: z.string().min(1),
    worker: z.string().optional(),
    paymentAddress: z.string().optional(),
    metrics: z
      .object({
        CPUTime: num,
        GPUTime: num,
        CPUDensity: num,
        GPUDensity: num,
        InDataSize: num,
        OutDataSize: num,
      })
      .loose()
      .optional(),
    authorizationMessage: authorizationMessageSchema.optional(),
    resultV2: z.unknown().optional(),
    result: z.string().optional(),
  })
  .loose();
export type ResultData = z.infer<typeof resultSchema>;

function readResult(data: ResultData): { value: ResultWrite['result']; isError: boolean } {
  let value: ResultWrite['result'];
  try {
    if (data.resultV2 !== undefined) {
      // unmarshalled once per result (it copies the tree): the hot path of every slice
      const raw = unmarshalKvin(data.resultV2) as ResultWrite['result'];
      const v = jobValue.decode(raw);
      return {
        value: { string: raw.string, method: raw.method, MIMEType: raw.MIMEType },
        isError: v instanceof Error,
      };
    }
    if (data.result !== undefined) {
      const decoded = dataUri.decode(data.result);
      value = jobValue.encode(decoded, 5);
      return { value, isError: decoded instanceof Error };
    }
  } catch (error) {
    if (error instanceof DcpError) throw error;
    throw new DcpError(DcpErrorCode.EINVAL, `unreadable result: ${String(error)}`);
  }
  throw new DcpError(DcpErrorCode.EINVAL, 'result needs resultV2 or result');
}

/**
 * Store a slice result (first valid one wins; late and duplicate results are answered and
 * ignored), meter it, owe its worker the slice payment (settled by the escrow), push `result`/`status` to the job's client and
 * finish the job when it was the last one. Results arriving in one tick share one transaction.
 */
export class SubmitResult {
  readonly #batcher: TickBatcher<ResultWrite, ResultOutcome>;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly lifecycle: JobLifecycle,
    private readonly leases: LeaseKeeper,
    private readonly authorizations: TaskAuthorizations,
    private readonly feed: ResultFeed,
  ) {
    this.#batcher = new TickBatcher((items) => this.#flush(items));
  }

  async execute(
    data: ResultData,
    peer: string,
  ): Promise<{ metrics: Record<string, number>; slicePaymentAmount: string }> {
    const key = workerKey(peer, data.worker);
    this.leases.alive(key);
    let read: ReturnType<typeof readResult>;
    try {
      this.authorizations.check(data.authorizationMessage as AuthorizationMessage | undefined, data.job, [
        data.slice,
      ]);
      read = readResult(data);
    } catch (error) {
      // a refused result: the worker drops the slice, so it goes back in the queue at once
      if (this.ctx.store.requeue(data.job, [data.slice], key, this.ctx.clock.now())) this.leases.requeued();
      throw error;
    }
    const { value, isError } = read;
    const m = data.metrics ?? {};
    const write: ResultWrite = {
      jobId: data.job,
      sliceNumber: data.slice,
      worker: key,
      paymentAddress: data.paymentAddress ?? '',
      result: value,
      isError,
      cpuMs: m.CPUTime ?? 0,
      gpuMs: m.GPUTime ?? 0,
      bytesIn: m.InDataSize ?? 0,
      bytesOut: m.OutDataSize ?? 0,
      payment: await this.ctx.escrow.paymentFor(data.job, data.paymentAddress ?? ''),
    };
    const outcome = await this.#batcher.submit(write);
    const job = await this.ctx.store.getJob(data.job);
    if (!job) throw new DcpError(DcpErrorCode.ENOENT, `no job ${data.job}`);
    // Owed with the stored result; the escrow's settle loop captures it from the job's hold.
    const paid = outcome === 'accepted' && write.payment ? write.payment.amount : '0';
    return { metrics: jobMetrics(job), slicePaymentAmount: paid };
  }

  /** Wait until submitted results are stored and pushed (tests, shutdown). */
  idle(): Promise<void> {
    return this.#batcher.idle();
  }

  async #flush(items: ResultWrite[]): Promise<ResultOutcome[]> {
    const outcomes = await this.ctx.store.recordResults(items, new Date(this.ctx.clock.now()));
    if (items.some((w, i) => w.payment && outcomes[i] === 'accepted')) this.ctx.escrow.kick();
    const touched = new Set<string>();
    const errored = new Set<string>();
    items.forEach((w, i) => {
      if (outcomes[i] !== 'accepted') return;
      touched.add(w.jobId);
      if (w.isError) errored.add(w.jobId);
    });
    for (const jobId of touched) {
      const job = await this.ctx.store.getJob(jobId);
      if (!job) continue;
      items.forEach((w, i) => {
        if (w.jobId !== jobId || outcomes[i] !== 'accepted') return;
        this.feed.push(job, w.sliceNumber, w.result);
      });
      this.lifecycle.statusEvent(job);
      if (errored.has(jobId) && (await this.lifecycle.checkErrors(job, DcpErrorCode.EUNCAUGHT))) continue;
      await this.lifecycle.finishIfDone(job);
    }
    return outcomes;
  }
}

/** The value of a stored result (inspection API). */
export function resultValue(result: { string: string; method: 'json' | 'kvin' }): unknown {
  return result.method === 'json' ? JSON.parse(result.string) : parseKvin(result.string);
}
