import { Emitter, type Logger, silentLogger } from '@dcp-emu/protocol';
import { ArtifactFetcher, OriginPolicy } from './artifacts';
import { Jobs } from './jobs';
import {
  type CoreOptions,
  type DcpTraffic,
  type LogLevel,
  resolveOptions,
  type SliceView,
  type SupervisorCoreOptions,
  type SupervisorEvents,
} from './options';
import { SandboxPool } from './sandbox-pool';
import { type SchedMsgCommand, SchedMsgListener } from './schedmsg-listener';
import { SchedulerClient } from './scheduler-client';
import { SliceBook, view } from './slice-book';
import { SliceRunner } from './slice-runner';
import { TaskFetcher } from './task-fetcher';
import { unref, withTimeout } from './util';

export type {
  DcpTraffic,
  MinimumWage,
  ServiceLocations,
  SliceMetrics,
  SliceState,
  SliceView,
  SupervisorCoreOptions,
  SupervisorEvents,
} from './options';
export { capabilityBits } from './util';

/**
 * Our DCP worker's supervisor (dcp-worker-protocol.md §4), the coordinator of its rooms:
 * - `TaskFetcher`: requestTask@3 (wake-ups, prefetch, the watchdog poll), Soteria, task returns;
 * - `SandboxPool`: sandboxes from the `sandboxes` port, assigned to a job and reused;
 * - `SliceRunner`: run → settle → submit, every slice state change through the `SliceBook`
 *   (the state machine of `slice-life.ts`);
 * - `SchedulerClient`: the DCP sessions; status (begins batched per turn), result, workEmit, modules;
 * - `SchedMsgListener`: SchedMsg commands (wake, announce, kill, reload/restart, remove, priority jobs).
 * This class starts them, routes SchedMsg commands and stops gracefully or at once. Imports nothing
 * Node-only, so the portal's browser worker runs it in a page (`@dcp-emu/worker-core`).
 */
export class SupervisorCore extends Emitter<SupervisorEvents> {
  readonly options: CoreOptions;
  readonly logger: Logger;
  readonly artifacts: ArtifactFetcher;
  readonly #client: SchedulerClient;
  readonly #book = new SliceBook();
  readonly #jobs: Jobs;
  readonly #pool: SandboxPool;
  readonly #runner: SliceRunner;
  readonly #fetcher: TaskFetcher;
  readonly #schedMsg: SchedMsgListener;
  readonly #rejectedJobs = new Set<string>();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #state: 'initial' | 'running' | 'stopping' | 'stopped' = 'initial';
  #immediate = false;

  constructor(options: SupervisorCoreOptions) {
    super();
    const o = resolveOptions(options);
    this.options = o;
    const logger = options.logger ?? silentLogger;
    this.logger = logger;
    const artifacts = new ArtifactFetcher(
      new OriginPolicy(options.schedulerOrigin, o.allowOrigins, options.originPolicy),
      options.httpFetch,
      undefined,
      options.resolveHost,
    );
    this.artifacts = artifacts;
    const book = this.#book;
    const log = (level: LogLevel, message: string) => this.#log(level, message);
    const client = new SchedulerClient({
      ...o,
      logger,
      artifacts,
      holds: (s) => book.holds(s),
      returned: (info) => this.emit('returned', info),
      log,
    });
    this.#client = client;
    const jobs = new Jobs(artifacts);
    this.#jobs = jobs;
    const pool = new SandboxPool({
      ...o,
      open: options.sandboxes,
      jobs,
      artifacts,
      modules: (ids) => client.modules(ids),
      holdsSlices: (job) => book.holdsJob(job),
      changed: () => this.#emitSandboxes(),
    });
    this.#pool = pool;
    const rejectedJobs = this.#rejectedJobs;
    this.#runner = new SliceRunner(
      { options: o, book, jobs, pool, client },
      {
        phase: () => this.#state,
        immediate: () => this.#immediate,
        prefetch: () => this.#fetcher.prefetch(),
        rejectedJobs,
        sliceStart: (s) => this.emit('sliceStart', s),
        sliceProgress: (s) => this.emit('sliceProgress', s),
        result: (s, info) => this.emit('result', s, info),
        sandboxesChanged: () => this.#emitSandboxes(),
        log,
      },
    );
    this.#fetcher = new TaskFetcher(
      { options: o, client, book, jobs, pool, artifacts, logger },
      {
        running: () => this.#state === 'running',
        pump: () => this.#runner.pump(),
        fetched: (info) => this.emit('fetch', info),
        stopNow: () => void this.stop(true),
        rejectedJobs,
        log,
      },
    );
    this.#schedMsg = new SchedMsgListener(
      client.schedMsg,
      { address: o.identity.address, workerId: o.workerId },
      logger,
      (command) => this.#command(command),
    );
  }

  /** the task distributor's, result submitter's and event router's DCP sessions, and SchedMsg's */
  get td() {
    return this.#client.td;
  }
  get rs() {
    return this.#client.rs;
  }
  get er() {
    return this.#client.er;
  }
  get schedMsg() {
    return this.#client.schedMsg;
  }

  /** DCC earned so far (accepted results' payments) */
  get earned(): number {
    return this.#runner.earned;
  }

  get slicesCompleted(): number {
    return this.#runner.slicesCompleted;
  }

  /**
   * DCP traffic of this worker so far, over all its sessions: signed envelopes (messages — a batch is
   * one — plus acks) each way, and how many of the messages were batches. Every envelope we send is
   * one the scheduler receives and the other way round, so these are the scheduler's figures for us.
   */
  dcpStats(): DcpTraffic {
    return this.#client.stats();
  }

  get state(): string {
    return this.#state;
  }

  /** Slices held now (queued, working, submitting). */
  slices(): SliceView[] {
    return this.#book.list().map((s) => view(s));
  }

  get openSandboxes(): number {
    return this.#pool.size;
  }

  get workingSlices(): number {
    return this.#book.working;
  }

  /** Waits for a sandbox (capabilities), subscribes to SchedMsg and starts fetching. */
  async start(): Promise<void> {
    if (this.#state !== 'initial') throw new Error(`supervisor already ${this.#state}`);
    this.#state = 'running';
    if (this.options.schedMsg) void this.#schedMsg.subscribe();
    this.#watchdog = setInterval(() => void this.fetchTask(), this.options.watchdogIntervalMs);
    void this.fetchTask();
  }

  /** One fetch cycle (see `TaskFetcher.fetchTask`); never rejects. */
  fetchTask(): Promise<void> {
    return this.#fetcher.fetchTask();
  }

  /** The scheduler says work is available (`schedmsg::wake`): ask for a task now. */
  wake(): void {
    this.#fetcher.wake();
  }

  #command(event: SchedMsgCommand): void {
    const payload = event.payload ?? {};
    const jobId = String(payload.jobAddress ?? payload.jobId ?? '');
    switch (event.command) {
      case 'wake':
        this.wake();
        return;
      case 'announce':
        this.#log('info', `Announcement: ${String(payload.message ?? '')}`);
        return;
      case 'kill':
        this.#log('warn', 'The scheduler asked this worker to stop (kill)');
        void this.stop(true).then(() => this.emit('exit', 130));
        return;
      case 'reload':
      case 'restart':
        this.#log('warn', `The scheduler asked this worker to ${event.command}`);
        void this.stop(false).then(() => this.emit('exit', 13));
        return;
      case 'remove': {
        const job = this.#jobs.get(jobId);
        if (!job) return;
        this.#log('warn', `The scheduler removed job ${job.name}`);
        job.removed = true;
        this.#rejectedJobs.add(jobId);
        this.#runner.returnJob(job, 'remove');
        for (const s of this.#book.inState('running')) if (s.job === job) s.sandbox?.close();
        return;
      }
      case 'addPriorityJob':
        if (jobId && !this.options.jobIds.includes(jobId)) this.options.jobIds.push(jobId);
        return;
      case 'removePriorityJob': {
        const i = this.options.jobIds.indexOf(jobId);
        if (i >= 0) this.options.jobIds.splice(i, 1);
        return;
      }
      default:
        this.logger.debug({ command: event.command }, 'unknown SchedMsg command');
    }
  }

  /**
   * Graceful (`immediate` false): stop fetching, return queued slices, let running slices finish and
   * submit (bounded by cleanupTimeoutMs), then close. Immediate: kill sandboxes and return everything.
   * A second call with `immediate` during a graceful stop escalates.
   */
  async stop(immediate = false): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#state === 'stopping') {
      if (immediate && !this.#immediate) this.#escalate();
      return this.#whenIdle(this.options.cleanupTimeoutMs).then(() => this.#close());
    }
    this.#state = 'stopping';
    clearInterval(this.#watchdog);
    // a fetch in flight may bring more slices to return; an unreachable scheduler must not hold us
    await withTimeout(this.#fetcher.inFlight ?? Promise.resolve(), 3_000);
    this.#runner.returnSlices(this.#book.inState('queued'), 'stopWork returning all queued slices');
    await withTimeout(this.#schedMsg.unsubscribe(), 3_000);
    if (immediate) this.#escalate();
    await this.#whenIdle(this.options.cleanupTimeoutMs);
    await this.#close();
  }

  /** Kills the sandboxes and returns every slice whose result is not sent yet. */
  #escalate(): void {
    this.#immediate = true;
    const left = this.#book.list();
    for (const s of left) s.sandbox?.close();
    this.#runner.returnSlices(
      left.filter((s) => s.life !== 'submitting'),
      'JobManager destroy',
    );
  }

  #whenIdle(timeoutMs: number): Promise<void> {
    if (this.#book.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#log('warn', `stop: ${this.#book.size} slices still unfinished after ${timeoutMs} ms`);
        this.#book.cancelWaiter(done);
        this.#escalate();
        resolve();
      }, timeoutMs);
      unref(timer);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#book.whenEmpty(done);
    });
  }

  async #close(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#pool.closeAll();
    // let pending status/return requests go out before closing the sessions
    await this.#client.close();
    this.emit('stopped');
  }

  #emitSandboxes(): void {
    this.emit('sandboxes', { open: this.#pool.size, working: this.#book.working });
  }

  #log(level: LogLevel, message: string): void {
    this.logger[level]({}, message);
    this.emit('log', level, message);
  }
}
