import { type Logger, seal } from '@dcp-emu/protocol';
import type { ArtifactFetcher } from './artifacts';
import { workerComputeGroups } from './compute-groups';
import type { Jobs } from './jobs';
import { type TaskPayload, taskPayloadSchema } from './messages';
import type { CoreOptions, LogLevel } from './options';
import type { SandboxPool } from './sandbox-pool';
import type { SchedulerClient } from './scheduler-client';
import type { SliceBook } from './slice-book';
import { capabilityBits } from './util';

const FETCH_NORMAL = 1;
const FETCH_NOTIFY_SOTERIA = 2;
const FETCH_STARTUP_CHECK = 4;

/** What the fetcher needs from the supervisor around it. */
export interface TaskFetcherHost {
  /** fetching happens only while `running` */
  running(): boolean;
  /** slices arrived: start them */
  pump(): void;
  /** a requestTask answered */
  fetched(info: { slices: number; jobs: number }): void;
  /** the scheduler broke the `-j` promise: stop at once */
  stopNow(): void;
  /** jobs refused (requestTask's `rejectedJobs`) */
  rejectedJobs: Set<string>;
  log(level: LogLevel, message: string): void;
}

/**
 * Asks the task distributor for slices (`requestTask@3` as a 5.x worker) and keeps the leases of
 * the slices held alive (Soteria). Fetches never wait idly:
 * - `wake()` (a `schedmsg::wake` push) fetches at once; a fetch asked for during a fetch runs after it;
 * - `prefetch()` (a slice started or ended) fetches while fewer slices are queued than there are
 *   sandboxes — results awaiting their answer do not count, up to `maxSubmitting` — unless the last
 *   answer was empty (then only a wake-up or the poll fetches);
 * - the supervisor's watchdog calls `fetchTask()` every `watchdogIntervalMs`.
 */
export class TaskFetcher {
  readonly #o: CoreOptions;
  readonly #client: SchedulerClient;
  readonly #book: SliceBook;
  readonly #jobs: Jobs;
  readonly #pool: SandboxPool;
  readonly #artifacts: ArtifactFetcher;
  readonly #host: TaskFetcherHost;
  readonly #logger: Logger;
  #fetching: Promise<void> | undefined;
  /** a fetch was asked for while one was in flight: run another when it ends */
  #fetchAgain = false;
  /** false after an empty answer until a wake-up or a non-empty answer: prefetches wait for the poll */
  #maybeWork = true;
  #fetchSeq = 0;
  #firstFetch = true;

  constructor(
    parts: {
      options: CoreOptions;
      client: SchedulerClient;
      book: SliceBook;
      jobs: Jobs;
      pool: SandboxPool;
      artifacts: ArtifactFetcher;
      logger: Logger;
    },
    host: TaskFetcherHost,
  ) {
    this.#o = parts.options;
    this.#client = parts.client;
    this.#book = parts.book;
    this.#jobs = parts.jobs;
    this.#pool = parts.pool;
    this.#artifacts = parts.artifacts;
    this.#logger = parts.logger;
    this.#host = host;
  }

  /** The fetch in flight, if any. */
  get inFlight(): Promise<void> | undefined {
    return this.#fetching;
  }

  /**
   * One fetch cycle: asks for as many slices as there is free capacity, then starts them. Returns
   * when the request is answered (never rejects; failures are logged and retried on the next tick).
   * Called while a fetch is in flight, it runs one more fetch after it (a wake-up must not be lost).
   */
  fetchTask(): Promise<void> {
    if (!this.#host.running()) return Promise.resolve();
    if (this.#fetching) {
      this.#fetchAgain = true;
      return this.#fetching;
    }
    this.#fetchAgain = false;
    const fetching = this.#fetchOnce()
      .catch((e) => this.#host.log('warn', `requestTask failed: ${(e as Error).message}`))
      .finally(() => {
        this.#fetching = undefined;
        if (this.#fetchAgain) void this.fetchTask();
      });
    this.#fetching = fetching;
    return fetching;
  }

  /** The scheduler says work is available (`schedmsg::wake`): ask for a task now. */
  wake(): void {
    this.#maybeWork = true;
    if (this.#needsSlices()) void this.fetchTask();
  }

  /** A sandbox started or finished a slice: fetch ahead if the queue runs low and there may be work. */
  prefetch(): void {
    if (this.#host.running() && this.#maybeWork && this.#needsSlices()) void this.fetchTask();
  }

  /**
   * Prefetch: ask for more while fewer slices are queued than there are sandboxes, so a sandbox that
   * frees up finds its next slice here instead of waiting for a requestTask round trip. Results still
   * waiting for the scheduler's answer do not count, up to `maxSubmitting`.
   */
  #needsSlices(): boolean {
    return (
      this.#book.count('queued') < this.#o.maxSandboxes &&
      this.#book.count('submitting') < this.#o.maxSubmitting
    );
  }

  async #fetchOnce(): Promise<void> {
    const o = this.#o;
    const book = this.#book;
    if (!this.#needsSlices()) {
      if (book.size > 0) await this.#soteria();
      return;
    }
    // room for one slice in every sandbox and one queued behind it
    const space = Math.max(1, 2 * o.maxSandboxes - book.count('queued') - book.working);
    if (!this.#pool.capabilities) (await this.#pool.open()).close();
    if (!this.#host.running()) return;
    const fetchState = this.#firstFetch ? FETCH_NORMAL | FETCH_STARTUP_CHECK : FETCH_NORMAL;
    const session = await this.#client.taskSession();
    const dcpsid = session.dcpsid ?? '';
    const request: Record<string, unknown> = {
      targetLoad: { cpu: space, gpu: 0, longSlices: Math.floor(space) },
      coreStats: {
        worker: o.workerId,
        lCores: o.maxSandboxes,
        pCores: o.maxSandboxes,
        sandbox: o.maxSandboxes,
      },
      jobQuanta: { CPU: { 0: 1 }, GPU: { 0: 1 } },
      capabilities: capabilityBits(this.#pool.capabilities ?? {}),
      paymentAddress: o.paymentAddress,
      jobIds: o.jobIds,
      workerComputeGroups: workerComputeGroups(o.computeGroups, o.leavePublicGroup, dcpsid),
      minimumWage: o.minimumWage,
      soteriaJobs: null,
      overdueSlices: null,
      previouslyWorkedJobs: [],
      rejectedJobs: [...this.#host.rejectedJobs],
      unresolvedJobs: [],
      fetchState,
      worktimes: this.#pool.worktimes ?? [{ name: 'map-basic', versions: ['1.0.0'] }],
      seq: this.#fetchSeq++,
    };
    if (fetchState & FETCH_STARTUP_CHECK)
      request.returnAllSlices = JSON.parse(seal(o.identity, { id: o.workerId }));
    const raw = await this.#client.requestTask(request, session);
    this.#firstFetch = false;
    this.#accept(taskPayloadSchema.parse(raw));
  }

  /** A requestTask answer: its slices join the book, queued. */
  #accept(payload: TaskPayload): void {
    const o = this.#o;
    const newJobs = payload.body?.newJobs;
    if (!newJobs || Object.keys(newJobs).length === 0) {
      this.#maybeWork = false;
      this.#host.fetched({ slices: 0, jobs: 0 });
      return;
    }
    this.#maybeWork = true;
    const { body: _body, ...authorizationMessage } = payload;
    if (o.jobIds.length && !Object.keys(newJobs).every((j) => o.jobIds.includes(j))) {
      this.#host.log(
        'error',
        'the scheduler sent slices of jobs this worker was not asked to work on; stopping',
      );
      this.#returnTask(payload, authorizationMessage, 'Worker received slices it should not have');
      this.#host.stopNow();
      return;
    }
    for (const [cg, purposes] of Object.entries(payload.body?.computeGroupOrigins ?? {}))
      for (const [purpose, origins] of Object.entries(purposes))
        for (const origin of origins) {
          this.#artifacts.origins.add(origin, purpose as never);
          this.#logger.debug({ cg, purpose, origin }, 'compute group origin allowed');
        }
    let count = 0;
    for (const [key, jobMessage] of Object.entries(newJobs)) {
      const jobId = jobMessage.jobId ?? jobMessage.address ?? key;
      const job = this.#jobs.obtain(jobId, jobMessage);
      const duplicates: number[] = [];
      for (const m of payload.body?.task?.[key] ?? []) {
        if (this.#book.has(jobId, m.sliceNumber)) {
          duplicates.push(m.sliceNumber);
          continue;
        }
        const datum = this.#jobs.datum(m);
        datum.catch(() => undefined);
        this.#book.add({ job, message: m, sliceNumber: m.sliceNumber, authorizationMessage, datum });
        count++;
      }
      if (duplicates.length)
        void this.#client.returnSlices(jobId, authorizationMessage, duplicates, 'return duplicate slice');
    }
    this.#host.fetched({ slices: count, jobs: Object.keys(newJobs).length });
    this.#host.pump();
    // a task smaller than our free room: there may be more, ask again once this one is started
    if (count > 0 && this.#needsSlices()) this.#fetchAgain = true;
  }

  /**
   * A Soteria-only requestTask (fetchState 2, no targetLoad): tells the scheduler which slices we
   * still hold so their leases stay alive while every sandbox is busy with long slices.
   */
  async #soteria(): Promise<void> {
    // results and status messages keep the leases alive as well: only a quiet worker needs Soteria
    if (Date.now() - this.#client.lastContact < this.#o.watchdogIntervalMs) return;
    const soteriaJobs: Record<string, number[]> = {};
    for (const s of this.#book.list()) {
      soteriaJobs[s.job.id] ??= [];
      soteriaJobs[s.job.id]?.push(s.sliceNumber);
    }
    await this.#client.requestTask({
      coreStats: { worker: this.#o.workerId },
      paymentAddress: this.#o.paymentAddress,
      soteriaJobs,
      overdueSlices: null,
      fetchState: FETCH_NOTIFY_SOTERIA,
    });
  }

  /** Gives back every slice of a task (a task this worker must not work on). */
  #returnTask(payload: TaskPayload, auth: Record<string, unknown>, reason: string) {
    for (const [key, slices] of Object.entries(payload.body?.task ?? {})) {
      const job = payload.body?.newJobs?.[key];
      void this.#client.returnSlices(
        job?.jobId ?? job?.address ?? key,
        auth,
        slices.map((s) => s.sliceNumber),
        reason,
      );
    }
  }
}
