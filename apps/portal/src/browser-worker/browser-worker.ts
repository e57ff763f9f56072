import { Identity } from '@dcp-emu/protocol';
import {
  discoverScheduler,
  type HttpFetch,
  type SandboxFactory,
  type SliceView,
  SupervisorCore,
} from '@dcp-emu/worker-core';

export type WorkerPhase = 'idle' | 'starting' | 'working' | 'stopping' | 'stopped' | 'failed';

export interface WorkerLogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  at: number;
}

/** What the page shows about the worker; a new object after every change. */
export interface BrowserWorkerStatus {
  phase: WorkerPhase;
  /** the worker's 22-character id (new per start, as a fresh browser worker) */
  workerId: string;
  /** address of the ephemeral identity that signs this worker's DCP messages (the key never leaves the page) */
  identity: string;
  paymentAddress: string;
  /** results the scheduler accepted */
  slicesComputed: number;
  /** DCC the scheduler reported paying for them (`slicePaymentAmount`) */
  earned: number;
  /** per job: name and results accepted */
  jobs: Record<string, { name: string; computed: number }>;
  /** slices held now (queued, working, submitting) with their progress */
  slices: SliceView[];
  sandboxes: { open: number; working: number };
  /** the newest lines last, at most LOG_LINES */
  log: WorkerLogLine[];
  error: string | undefined;
}

export interface BrowserWorkerOptions {
  /** the scheduler's base URL (its `/etc/dcp-config.kvin` names the services) */
  schedulerUrl: string;
  /** bank account credited for the results */
  paymentAddress: string;
  /** one Web Worker per sandbox in the page (`webWorkerSandboxes`) */
  sandboxes: SandboxFactory;
  /** sandboxes working at once */
  maxSandboxes: number;
  identity?: Identity;
  workerId?: string;
  httpFetch?: HttpFetch;
  watchdogIntervalMs?: number;
  /** bound on a graceful stop (running slices finish and submit meanwhile) */
  cleanupTimeoutMs?: number;
}

export const LOG_LINES = 30;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A 22-character worker id from the Web Crypto random source. */
export function randomWorkerId(): string {
  const bytes = new Uint8Array(22);
  globalThis.crypto.getRandomValues(bytes);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

/**
 * The DCP worker of a browser page: our supervisor core (`@dcp-emu/worker-core`) speaking DCPv5
 * to the scheduler from the page, with an identity made here and never sent anywhere, earning into
 * the chosen bank account, its sandboxes supplied by the caller (Web Workers). It keeps a status
 * snapshot for the UI and tells subscribers after every change.
 */
export class BrowserWorker {
  readonly identity: Identity;
  #status: BrowserWorkerStatus;
  #supervisor: SupervisorCore | undefined;
  #listeners = new Set<(status: BrowserWorkerStatus) => void>();
  #stopping: Promise<void> | undefined;

  constructor(readonly options: BrowserWorkerOptions) {
    this.identity = options.identity ?? Identity.random();
    this.#status = {
      phase: 'idle',
      workerId: options.workerId ?? randomWorkerId(),
      identity: this.identity.address,
      paymentAddress: options.paymentAddress,
      slicesComputed: 0,
      earned: 0,
      jobs: {},
      slices: [],
      sandboxes: { open: 0, working: 0 },
      log: [],
      error: undefined,
    };
  }

  get status(): BrowserWorkerStatus {
    return this.#status;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (status: BrowserWorkerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Finds the scheduler's services and starts fetching slices. Resolves once working (or failed). */
  async start(): Promise<void> {
    if (this.#status.phase !== 'idle') throw new Error(`the worker is already ${this.#status.phase}`);
    this.#update({ phase: 'starting' });
    this.#log('info', `connecting to the scheduler at ${this.options.schedulerUrl}`);
    try {
      const found = await discoverScheduler(this.options.schedulerUrl, this.options.httpFetch);
      // stop() may have been called while the config was on its way
      if (this.#phase() !== 'starting') return;
      const supervisor = new SupervisorCore({
        identity: this.identity,
        services: found.services,
        schedulerOrigin: new URL(this.options.schedulerUrl).origin,
        sandboxes: this.options.sandboxes,
        paymentAddress: this.options.paymentAddress,
        workerId: this.#status.workerId,
        maxSandboxes: this.options.maxSandboxes,
        ...(this.options.httpFetch ? { httpFetch: this.options.httpFetch } : {}),
        ...(this.options.watchdogIntervalMs ? { watchdogIntervalMs: this.options.watchdogIntervalMs } : {}),
        cleanupTimeoutMs: this.options.cleanupTimeoutMs ?? 30_000,
      });
      this.#supervisor = supervisor;
      this.#wire(supervisor);
      await supervisor.start();
      this.#update({ phase: 'working' });
      this.#log('info', `working for ${this.options.paymentAddress} as worker ${this.#status.workerId}`);
    } catch (e) {
      const message = (e as Error).message;
      this.#log('error', `could not start: ${message}`);
      this.#update({ phase: 'failed', error: message });
      await this.#supervisor?.stop(true).catch(() => undefined);
    }
  }

  /**
   * Stops fetching, returns queued slices, lets running slices finish and submit (bounded by
   * `cleanupTimeoutMs`), then closes the DCP sessions; `immediate` returns everything at once.
   */
  stop(immediate = false): Promise<void> {
    const supervisor = this.#supervisor;
    if (!supervisor) {
      if (this.#status.phase === 'idle' || this.#status.phase === 'starting')
        this.#update({ phase: 'stopped' });
      return Promise.resolve();
    }
    if (this.#stopping) {
      if (immediate) void supervisor.stop(true);
      return this.#stopping;
    }
    if (this.#status.phase === 'working') this.#update({ phase: 'stopping' });
    this.#log('info', immediate ? 'stopping now' : 'stopping: finishing the slices at hand');
    this.#stopping = supervisor.stop(immediate).then(() => {
      if (this.#status.phase !== 'failed') this.#update({ phase: 'stopped' });
      this.#log('info', 'disconnected from the scheduler');
    });
    return this.#stopping;
  }

  #wire(s: SupervisorCore): void {
    const refresh = () =>
      this.#update({
        slices: s.slices(),
        slicesComputed: s.slicesCompleted,
        earned: s.earned,
        sandboxes: { open: s.openSandboxes, working: s.workingSlices },
      });
    s.on('fetch', ({ slices, jobs }) => {
      if (slices > 0) this.#log('info', `fetched ${slices} slice(s) of ${jobs} job(s)`);
      refresh();
    });
    s.on('sliceStart', refresh);
    s.on('sliceProgress', refresh);
    s.on('sandboxes', refresh);
    s.on('result', (slice, { payment }) => {
      const job = this.#status.jobs[slice.jobId] ?? { name: slice.jobName, computed: 0 };
      this.#status = {
        ...this.#status,
        jobs: { ...this.#status.jobs, [slice.jobId]: { name: job.name, computed: job.computed + 1 } },
      };
      this.#log('info', `slice ${slice.sliceNumber} of ${slice.jobName} accepted (${payment} DCC)`);
      refresh();
    });
    s.on('returned', ({ sliceNumbers, reason }) => {
      this.#log('warn', `returned slice(s) ${sliceNumbers.join(', ')}: ${reason}`);
      refresh();
    });
    s.on('log', (level, message) => this.#log(level, message));
    s.on('exit', () => {
      this.#log('warn', 'the scheduler stopped this worker');
      void this.stop();
    });
    s.on('stopped', refresh);
  }

  #phase(): WorkerPhase {
    return this.#status.phase;
  }

  #log(level: WorkerLogLine['level'], message: string): void {
    const log = [...this.#status.log, { level, message, at: Date.now() }].slice(-LOG_LINES);
    this.#update({ log });
  }

  #update(patch: Partial<BrowserWorkerStatus>): void {
    this.#status = { ...this.#status, ...patch };
    for (const l of this.#listeners) l(this.#status);
  }
}
