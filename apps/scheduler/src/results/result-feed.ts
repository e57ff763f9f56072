import type { SchedulerContext } from '../context';
import { resultUri } from '../jobs/result-storage';
import type { JobRecord } from '../state/job-store';

/** Slice numbers remembered per job while their `result` event is not taken; beyond this, "replay all". */
const MAX_UNTAKEN = 100_000;
/** Results read per query when a job's results are replayed. */
const REPLAY_CHUNK = 1_000;

type Value = { string: string; method: 'json' | 'kvin' };

/**
 * The `result` events of jobs, delivered until a subscriber took them. A result event pushed while
 * the client is away (reconnecting, or the scheduler was restarted) would otherwise be lost, and
 * dcp-client then fetches the missing results when the job stops — correct final values, but
 * dcp-client 5.6.1's `results.fetch(…, emitEvents)` emits each such `result` event with the NEXT
 * slice's (usually undefined) value. So the feed remembers which results were not taken and pushes
 * them again when the client subscribes again; after a restart (memory lost) the first subscription to
 * a job's results gets all of its stored results (dcp-client reports repeats as `duplicate-result`).
 */
export class ResultFeed {
  /** jobs whose results someone subscribed to since this process started */
  readonly #subscribed = new Set<string>();
  /** job → slices whose result event no subscriber took yet (undefined: too many, replay all) */
  readonly #untaken = new Map<string, Set<number> | undefined>();

  constructor(private readonly ctx: Pick<SchedulerContext, 'store' | 'events' | 'logger'>) {
    ctx.events.onSubscribe('result', (job, deliver) => this.#replay(job, deliver));
  }

  /** A result was accepted (and committed): push it to the job's subscribers, remember it until taken. */
  push(job: JobRecord, sliceNumber: number, result: Value): void {
    const jobId = job.id;
    const set = this.#untakenSet(jobId);
    set?.add(sliceNumber);
    void this.ctx.events
      .emitTracked(jobId, 'result', this.#fields(job, sliceNumber, result))
      .then((taken) => {
        if (taken) this.#untaken.get(jobId)?.delete(sliceNumber);
      });
  }

  /** The job ended and its client was told (`stop` taken): nothing more to remember. */
  forget(jobId: string): void {
    this.#untaken.delete(jobId);
  }

  #untakenSet(jobId: string): Set<number> | undefined {
    if (this.#untaken.has(jobId)) {
      const set = this.#untaken.get(jobId);
      if (set && set.size >= MAX_UNTAKEN) this.#untaken.set(jobId, undefined);
      return this.#untaken.get(jobId);
    }
    const set = new Set<number>();
    this.#untaken.set(jobId, set);
    return set;
  }

  /** The event as dcp-client reads it: a data: URI of the value, or where the job's result storage keeps it. */
  #fields(job: JobRecord, sliceNumber: number, result: Value): Record<string, unknown> {
    return {
      sliceNumber,
      result: { request: 'main', result: resultUri(result, job.generation, job.options.resultStorage) },
    };
  }

  async #replay(
    jobId: string,
    deliver: (fields: Record<string, unknown>) => Promise<boolean>,
  ): Promise<void> {
    try {
      const job = await this.ctx.store.getJob(jobId);
      if (!job || job.completedCount === 0) {
        this.#subscribed.add(jobId);
        return;
      }
      const first = !this.#subscribed.has(jobId);
      this.#subscribed.add(jobId);
      const untaken = this.#untaken.get(jobId);
      const all = first || (this.#untaken.has(jobId) && untaken === undefined);
      if (!all && (!untaken || untaken.size === 0)) return;
      const numbers = all ? undefined : [...untaken!].sort((a, b) => a - b);
      const total = numbers ? numbers.length : job.sliceCount;
      let sent = 0;
      let taken = 0;
      for (let i = 0; i < total; i += REPLAY_CHUNK) {
        const slices = numbers
          ? await this.ctx.store.slices(jobId, { numbers: numbers.slice(i, i + REPLAY_CHUNK) })
          : await this.ctx.store.slices(jobId, { from: i + 1, limit: REPLAY_CHUNK });
        // all of a chunk at once: the subscriber's session packs them into a few envelopes
        const pushes = slices
          .filter((s) => s.status === 'done' && s.result)
          .map(async (s) => {
            if (await deliver(this.#fields(job, s.sliceNumber, s.result!))) {
              taken++;
              this.#untaken.get(jobId)?.delete(s.sliceNumber);
            }
          });
        sent += pushes.length;
        await Promise.all(pushes);
      }
      this.ctx.logger.info({ job: jobId, sent, taken, all }, 'results replayed to a new subscriber');
      if (all && this.#untaken.get(jobId) === undefined) this.#untaken.set(jobId, new Set());
    } catch (error) {
      this.ctx.logger.warn(
        { err: String(error), job: jobId },
        'results could not be replayed to a subscriber',
      );
    }
  }
}
