import { systemClock } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import { resultUri } from '../jobs/result-storage';
import type { JobRecord, SliceRecord } from '../state/job-store';

/** Slice numbers remembered per job while their `result` event is not taken; beyond this, "replay all". */
const MAX_UNTAKEN = 100_000;
/** Pushes of one result event to a job's subscribers that refused it, and the real-time wait between. */
const PUSH_ATTEMPTS = 3;
const RETRY_PUSH_MS = 1_000;
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
  /** results stored before this time were pushed (or not) by an earlier process (a restart) */
  readonly #startedAt: number;
  /** job → slices whose result event no subscriber took yet (undefined: too many, replay all) */
  readonly #untaken = new Map<string, Set<number> | undefined>();

  constructor(private readonly ctx: Pick<SchedulerContext, 'store' | 'events' | 'logger' | 'clock'>) {
    this.#startedAt = ctx.clock.now();
    ctx.events.onSubscribe('result', (job, deliver) => this.#replay(job, deliver));
  }

  /** A result was accepted (and committed): push it to the job's subscribers, remember it until taken. */
  push(job: JobRecord, sliceNumber: number, result: Value, attempt = 1): void {
    if (attempt === 1) this.#untakenSet(job.id)?.add(sliceNumber);
    void this.ctx.events
      .emitTracked(job.id, 'result', this.#fields(job, sliceNumber, result))
      .then((taken) => {
        if (taken) {
          this.#untaken.get(job.id)?.delete(sliceNumber);
          return;
        }
        // refused by a subscriber that is still there (e.g. one between two subscriptions): again, a
        // little later — with nobody subscribed, the next subscription gets it (#replay)
        if (attempt >= PUSH_ATTEMPTS || this.ctx.events.subscriberCount(job.id) === 0) return;
        systemClock.setTimeout(() => {
          if (this.#untaken.get(job.id)?.has(sliceNumber) === false) return; // taken meanwhile (replay)
          this.push(job, sliceNumber, result, attempt + 1);
        }, RETRY_PUSH_MS);
      });
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

  /**
   * A client subscribed to a job's results: push what it may have missed — the results pushed while
   * nobody took them (known now, before any await: results accepted from here on reach it live), and,
   * on the first subscription since this process started, the results stored by an earlier process.
   * Never a result the subscriber gets live (dcp-client's duplicate-result path JSON-stringifies the
   * previous value, which throws on a circular one).
   */
  async #replay(
    jobId: string,
    deliver: (fields: Record<string, unknown>) => Promise<boolean>,
  ): Promise<void> {
    const first = !this.#subscribed.has(jobId);
    this.#subscribed.add(jobId);
    const untaken = this.#untaken.get(jobId);
    const overflowed = this.#untaken.has(jobId) && untaken === undefined;
    const missed = untaken ? [...untaken].sort((a, b) => a - b) : [];
    const missedSet = new Set(missed);
    try {
      const job = await this.ctx.store.getJob(jobId);
      if (!job || job.completedCount === 0) {
        this.ctx.logger.info({ job: jobId, first, found: !!job }, 'a new subscriber: no results to replay');
        return;
      }
      let sent = 0;
      let taken = 0;
      const push = async (slices: SliceRecord[], keep: (s: SliceRecord) => boolean) => {
        // all of a chunk at once: the subscriber's session packs them into a few envelopes
        const pushes = slices
          .filter((s) => s.status === 'done' && s.result && keep(s))
          .map(async (s) => {
            if (await deliver(this.#fields(job, s.sliceNumber, s.result!))) {
              taken++;
              this.#untaken.get(jobId)?.delete(s.sliceNumber);
            }
          });
        sent += pushes.length;
        await Promise.all(pushes);
      };
      for (let i = 0; i < missed.length; i += REPLAY_CHUNK)
        await push(
          await this.ctx.store.slices(jobId, { numbers: missed.slice(i, i + REPLAY_CHUNK) }),
          () => true,
        );
      // after a restart (or too many to remember): the stored results of before, i.e. of an earlier
      // process, or all of them when the untaken ones were not remembered
      if (first || overflowed) {
        const before = overflowed ? Number.POSITIVE_INFINITY : this.#startedAt;
        for (let i = 0; i < job.sliceCount; i += REPLAY_CHUNK)
          await push(
            await this.ctx.store.slices(jobId, { from: i + 1, limit: REPLAY_CHUNK }),
            (s) => !missedSet.has(s.sliceNumber) && (s.completedAt?.getTime() ?? 0) < before,
          );
        if (overflowed) this.#untaken.set(jobId, new Set());
      }
      this.ctx.logger.info(
        { job: jobId, first, missed: missed.length, overflowed, sent, taken },
        'results replayed to a new subscriber',
      );
    } catch (error) {
      this.ctx.logger.warn(
        { err: String(error), job: jobId },
        'results could not be replayed to a subscriber',
      );
    }
  }
}
