import { DcpError, DcpErrorCode, jobValue, kvinFor } from '@dcp-emu/protocol';
import type { JobArtifacts, JobState, Jobs } from './jobs';
import type { LineSandbox, Measurement, SliceOutcome } from './line-sandbox';
import { resultResponseSchema } from './messages';
import type { CoreOptions, LogLevel, SliceMetrics, SliceView } from './options';
import type { SandboxPool } from './sandbox-pool';
import type { SchedulerClient } from './scheduler-client';
import { type SliceBook, type SliceRecord, view } from './slice-book';
import { errorCode, round, unref } from './util';

/** Result refusals that are the scheduler's trouble, not the result's: retried up to RESULT_ATTEMPTS. */
const TRANSIENT = new Set<string>([
  DcpErrorCode.EINTERNAL,
  DcpErrorCode.EPIPE,
  DcpErrorCode.ETIMEDOUT,
  DcpErrorCode.ECONNRESET,
]);
const RESULT_ATTEMPTS = 6;

/** What the runner needs from the supervisor around it. */
export interface SliceRunnerHost {
  /** the supervisor's state: slices start only while `running`; result retries end once `stopped` */
  phase(): 'initial' | 'running' | 'stopping' | 'stopped';
  /** an immediate stop is under way: a sandbox obtained now is closed, not used */
  immediate(): boolean;
  /** the runner started slices: fetch ahead if the queue runs low */
  prefetch(): void;
  /** jobs refused from now on (requestTask's `rejectedJobs`) */
  rejectedJobs: Set<string>;
  sliceStart(slice: SliceView): void;
  sliceProgress(slice: SliceView): void;
  result(slice: SliceView, info: { payment: number; metrics: SliceMetrics }): void;
  sandboxesChanged(): void;
  log(level: LogLevel, message: string): void;
}

/**
 * Runs the held slices: takes queued slices while sandboxes are free (and fewer than `maxSubmitting`
 * results await their answer), gets the job's artifacts, the datum and a sandbox, runs the slice,
 * settles its outcome and submits its result — every change of a slice's state through the
 * `SliceBook` (the slice state machine). A sandbox takes its next slice as soon as its result is
 * issued, not when the result is answered.
 */
export class SliceRunner {
  readonly #o: CoreOptions;
  readonly #book: SliceBook;
  readonly #pool: SandboxPool;
  readonly #jobs: Jobs;
  readonly #client: SchedulerClient;
  readonly #host: SliceRunnerHost;
  #pumpScheduled = false;
  earned = 0;
  slicesCompleted = 0;

  constructor(
    parts: { options: CoreOptions; book: SliceBook; jobs: Jobs; pool: SandboxPool; client: SchedulerClient },
    host: SliceRunnerHost,
  ) {
    this.#o = parts.options;
    this.#book = parts.book;
    this.#jobs = parts.jobs;
    this.#pool = parts.pool;
    this.#client = parts.client;
    this.#host = host;
  }

  /** Starts queued slices while there is room (once per microtask, however often it is asked). */
  pump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      if (this.#host.phase() !== 'running') return;
      const book = this.#book;
      // a scheduler that answers results slower than we compute them sets the pace
      if (book.count('submitting') >= this.#o.maxSubmitting) return;
      if (book.working < this.#o.maxSandboxes && book.count('queued') > 0)
        for (const slice of book.list()) {
          if (book.working >= this.#o.maxSandboxes) break;
          if (slice.life !== 'queued') continue;
          book.move(slice, 'start');
          void this.#run(slice);
        }
      this.#host.prefetch();
    });
  }

  /** Returns every unfinished slice of a job that is not running (and closes its idle sandboxes). */
  returnJob(job: JobState, reason: string): void {
    const groups = new Map<Record<string, unknown>, number[]>();
    for (const s of this.#book.list()) {
      if (s.job !== job || (s.life !== 'queued' && s.life !== 'preparing')) continue;
      this.#book.move(s, 'return');
      const g = groups.get(s.authorizationMessage) ?? [];
      g.push(s.sliceNumber);
      groups.set(s.authorizationMessage, g);
    }
    for (const [auth, numbers] of groups) void this.#client.returnSlices(job.id, auth, numbers, reason);
    for (const s of job.idle.splice(0)) s.close();
  }

  /** Returns these slices (grouped by job and task, one `status return` each). */
  returnSlices(slices: SliceRecord[], reason: string): void {
    const groups = new Map<string, { jobId: string; auth: Record<string, unknown>; numbers: number[] }>();
    const authIds = new Map<Record<string, unknown>, number>();
    for (const s of slices) {
      if (!this.#book.holds(s)) continue;
      if (!authIds.has(s.authorizationMessage)) authIds.set(s.authorizationMessage, authIds.size);
      const key = `${s.job.id} ${authIds.get(s.authorizationMessage)}`;
      const g = groups.get(key) ?? { jobId: s.job.id, auth: s.authorizationMessage, numbers: [] };
      g.numbers.push(s.sliceNumber);
      groups.set(key, g);
      this.#book.move(s, 'return');
    }
    for (const g of groups.values()) void this.#client.returnSlices(g.jobId, g.auth, g.numbers, reason);
  }

  /** A slice that cannot run here: `fail` and return it with `reason`. */
  #fail(slice: SliceRecord, reason: string): void {
    this.#book.move(slice, 'fail');
    void this.#client.returnSlices(slice.job.id, slice.authorizationMessage, [slice.sliceNumber], reason);
  }

  async #run(slice: SliceRecord): Promise<void> {
    const job = slice.job;
    const book = this.#book;
    let artifacts: JobArtifacts;
    let datum: { value: unknown; bytes: number };
    try {
      artifacts = await job.ready;
    } catch (e) {
      this.#host.rejectedJobs.add(job.id);
      this.#host.log('warn', `job ${job.name}: artifacts unavailable: ${(e as Error).message}`);
      this.returnJob(job, errorCode(e, DcpErrorCode.EFETCH));
      return;
    }
    try {
      datum = await slice.datum;
    } catch (e) {
      if (book.holds(slice)) this.#fail(slice, errorCode(e, DcpErrorCode.EFETCH));
      return;
    }
    if (!book.holds(slice)) return;
    let sandbox: LineSandbox;
    try {
      sandbox = await this.#pool.forJob(job, artifacts);
    } catch (e) {
      if (!book.holds(slice)) return;
      if (e instanceof DcpError && e.code === DcpErrorCode.ESANDBOX && this.#host.phase() === 'running') {
        // the evaluator is gone: keep the slice queued and retry until sandboxCreationTimeoutMs
        book.move(slice, 'requeue');
        this.#evaluatorDown();
        return;
      }
      this.#host.log('warn', `job ${job.name}: assign failed: ${(e as Error).message}`);
      // as dcp-worker's directJobError: the client learns why (a module that does not load, …)
      this.#client.workEmit(slice, 'error', {
        name: 'Error',
        message: `Failed to assign job ${job.id} to sandbox: ${(e as Error).message}`,
        code: errorCode(e, DcpErrorCode.ESANDBOX),
        timestamp: new Date().toISOString(),
      });
      this.#fail(slice, errorCode(e, DcpErrorCode.ESANDBOX));
      return;
    }
    this.#pool.up();
    if (!book.holds(slice) || this.#host.immediate()) {
      sandbox.close();
      return;
    }
    book.move(slice, 'assign');
    slice.sandbox = sandbox;
    slice.startedAt = Date.now();
    slice.attempts++;
    const onProgress = (p: number | undefined) => {
      slice.progress = p;
      this.#host.sliceProgress(view(slice));
    };
    const onConsole = (payload: Record<string, unknown>) => this.#client.workEmit(slice, 'console', payload);
    const onCustom = (payload: Record<string, unknown>) => this.#client.workEmit(slice, 'custom', payload);
    sandbox.on('progress', onProgress);
    sandbox.on('console', onConsole);
    sandbox.on('custom', onCustom);
    this.#host.sliceStart(view(slice));
    this.#host.sandboxesChanged();
    this.#client.begin(slice);
    let outcome: SliceOutcome;
    try {
      outcome = await sandbox.work(datum.value);
    } finally {
      sandbox.off('progress', onProgress);
      sandbox.off('console', onConsole);
      sandbox.off('custom', onCustom);
      slice.sandbox = undefined;
    }
    slice.fetchBytes += datum.bytes;
    await this.#settle(slice, sandbox, outcome, artifacts.bytes);
  }

  /** The work ended: submit its result, run it again, or give it back. */
  async #settle(slice: SliceRecord, sandbox: LineSandbox, outcome: SliceOutcome, jobBytes: number) {
    const job = slice.job;
    const book = this.#book;
    if (!book.holds(slice)) {
      sandbox.close();
      return;
    }
    const running = this.#host.phase() === 'running';
    switch (outcome.kind) {
      case 'complete':
      case 'workError': {
        this.#pool.reuse(job, sandbox, running);
        let value: unknown = outcome.kind === 'complete' ? outcome.result : undefined;
        if (outcome.kind === 'workError') {
          const err = new Error(String(outcome.error.message ?? 'work function error'));
          Object.assign(err, outcome.error, { errorCode: DcpErrorCode.EUNCAUGHT });
          if (typeof outcome.error.name === 'string') err.name = outcome.error.name;
          value = err;
          this.#client.workEmit(slice, 'error', {
            name: err.name,
            message: err.message,
            stack: outcome.error.stack,
            code: DcpErrorCode.EUNCAUGHT,
            timestamp: new Date().toISOString(),
          });
        }
        // the sandbox takes its next slice now; the result's answer is awaited meanwhile
        const submitted = this.#submit(slice, value, outcome.measurement, jobBytes);
        this.#host.sandboxesChanged();
        this.pump();
        await submitted;
        break;
      }
      case 'workReject': {
        sandbox.close();
        if (job.rejectRetries < outcome.retries) {
          job.rejectRetries++;
          book.move(slice, 'requeue');
          this.pump();
          break;
        }
        this.#host.rejectedJobs.add(job.id);
        this.#host.log('warn', `job ${job.name} rejected by its work function: ${String(outcome.reason)}`);
        this.#fail(slice, DcpErrorCode.EWORKREJECT);
        this.returnJob(job, DcpErrorCode.EWORKREJECT);
        break;
      }
      case 'failed': {
        sandbox.close();
        const lost = outcome.code === DcpErrorCode.ESANDBOX;
        if (lost && running && !job.removed && slice.attempts <= this.#o.maxSliceRetries) {
          // the evaluator (or its connection) died under the slice: run it again in a new sandbox
          this.#host.log(
            'warn',
            `sandbox ${sandbox.id} lost (${outcome.message}); re-running slice ${slice.sliceNumber}`,
          );
          slice.progress = undefined;
          book.move(slice, 'requeue');
          this.pump();
          break;
        }
        if (!lost)
          this.#client.workEmit(slice, 'error', {
            name: job.name,
            message: outcome.message,
            code: outcome.code,
            timestamp: new Date().toISOString(),
          });
        this.#fail(slice, running ? outcome.code : 'JobManager destroy');
        break;
      }
    }
    this.#host.sandboxesChanged();
    this.pump();
  }

  async #submit(slice: SliceRecord, value: unknown, m: Measurement, jobBytes: number): Promise<void> {
    this.#book.move(slice, 'submit');
    const encoded = jobValue.encode(value, 5);
    const metrics: SliceMetrics = {
      CPUTime: round(m.CPU),
      GPUTime: round(m.webGL + m.webGPU),
      CPUDensity: m.total > 0 ? Math.min(1, round(m.CPU / m.total, 4)) : 0,
      GPUDensity: m.total > 0 ? Math.min(1, round((m.webGL + m.webGPU) / m.total, 4)) : 0,
      InDataSize: slice.fetchBytes + jobBytes,
      OutDataSize: encoded.string.length,
    };
    const data = {
      slice: slice.sliceNumber,
      job: slice.job.id,
      worker: this.#o.workerId,
      paymentAddress: this.#o.paymentAddress,
      metrics,
      authorizationMessage: slice.authorizationMessage,
      resultV2: kvinFor(5).marshal(encoded),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = resultResponseSchema.parse(await this.#client.result(data));
        const payment = Number(res.slicePaymentAmount ?? 0) || 0;
        this.earned += payment;
        this.slicesCompleted++;
        const accepted = view(slice);
        this.#book.move(slice, 'accept');
        this.#host.result(accepted, { payment, metrics });
        return;
      } catch (e) {
        // the scheduler's own trouble (a busy database, a dropped session) is not the job's fault:
        // the result is valid, so try again a few times with a growing pause before giving it back
        const transient = e instanceof DcpError && TRANSIENT.has(String(e.code));
        if (transient && attempt < RESULT_ATTEMPTS && this.#host.phase() !== 'stopped') {
          await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
          continue;
        }
        if (transient || attempt >= 2 || !(e instanceof DcpError)) {
          this.#host.log('warn', `result of slice ${slice.sliceNumber} refused: ${(e as Error).message}`);
          this.#book.move(slice, 'refuse');
          void this.#client.returnSlices(
            slice.job.id,
            slice.authorizationMessage,
            [slice.sliceNumber],
            errorCode(e, 'EFETCH'),
          );
          return;
        }
      }
    }
  }

  /** No sandbox could be opened: retry in a while, or return everything after sandboxCreationTimeoutMs. */
  #evaluatorDown(): void {
    if (this.#pool.downTooLong()) {
      this.#host.log('error', 'evaluator cannot create new sandboxes; returning all unfinished slices');
      for (const job of [...this.#jobs.all()]) this.returnJob(job, 'JobManager evaluatorDownCleanup');
      return;
    }
    unref(setTimeout(() => this.pump(), 250));
  }
}
