import {
  DcpError,
  DcpErrorCode,
  DcpInitiator,
  type DcpSession,
  Emitter,
  type Identity,
  type IncomingRequest,
  jobValue,
  kvinFor,
  type Logger,
  seal,
  silentLogger,
} from '@dcp-emu/protocol';
import {
  ArtifactFetcher,
  guardedFetch,
  type HttpFetch,
  OriginPolicy,
  type OriginPolicyOptions,
  type ResolveHost,
} from './artifacts';
import { type ComputeGroupCredentials, workerComputeGroups } from './compute-groups';
import {
  type FetchRequestData,
  type FetchResponseData,
  type LineSandbox,
  type Measurement,
  type SandboxFactory,
  type SandboxHost,
  type SliceOutcome,
} from './line-sandbox';
import {
  type JobMessage,
  resultResponseSchema,
  type SchedMsgEvent,
  type SliceMessage,
  schedMsgEventSchema,
  subscribeResponseSchema,
  taskPayloadSchema,
} from './messages';

export interface ServiceLocations {
  taskDistributor: URL;
  resultSubmitter: URL;
  eventRouter: URL;
  packageManager?: URL;
}

export interface MinimumWage {
  CPU: number;
  GPU: number;
  in: number;
  out: number;
}

/** What the supervisor core needs; `Supervisor` (Node) adds the evaluator's TCP address instead of `sandboxes`. */
export interface SupervisorCoreOptions {
  identity: Identity;
  services: ServiceLocations;
  /** origin of the scheduler: always allowed for job artifacts */
  schedulerOrigin?: string;
  /** opens one sandbox (a TCP evaluator connection in Node, a Web Worker in a browser) */
  sandboxes: SandboxFactory;
  /** earnings account, sent in every requestTask and result */
  paymentAddress: string;
  /** 22-character worker id */
  workerId: string;
  /** sandboxes working at once (dcp-worker's cores × utilization, capped by -m) */
  maxSandboxes: number;
  computeGroups?: ComputeGroupCredentials[];
  leavePublicGroup?: boolean;
  /** `-a`: origins allowed for every purpose */
  allowOrigins?: string[];
  /** the stack's own services (never reachable from a work function) and the loopback dev default */
  originPolicy?: OriginPolicyOptions;
  /** host name → addresses (Node: dns.lookup), so a name pointing at a stack service is refused too */
  resolveHost?: ResolveHost;
  minimumWage?: MinimumWage;
  /** `-j`: only these jobs */
  jobIds?: string[];
  /**
   * idle poll and Soteria cadence (default 1 s; pass the scheduler's served
   * `supervisor.tuning.watchdogInterval`, see `discoverScheduler`). A scheduler that pushes
   * `schedmsg::wake` reaches an idle worker at once.
   */
  watchdogIntervalMs?: number;
  /**
   * `status begin` (dcp-emu's scheduler only renews the worker's leases with it, as requestTask and
   * result do): `task` (default) once per task, for its slices that start first; `slice` for every
   * slice that starts (as dcp-worker); `none`. The begins of one turn share one message.
   */
  statusBegin?: 'task' | 'slice' | 'none';
  /**
   * results awaiting the scheduler's answer at most (default 4 × maxSandboxes): beyond it no slice
   * starts and nothing is fetched, so a scheduler that answers slower than we compute sets the pace
   */
  maxSubmitting?: number;
  progressTimeoutMs?: number;
  /** forced end of a graceful stop (DCP: 60 s) */
  cleanupTimeoutMs?: number;
  /** give up re-creating sandboxes after the evaluator went away (DCP: 60 s) */
  sandboxCreationTimeoutMs?: number;
  /** a sandbox runs at most this many slices (DCP: 200) */
  maxSandboxUse?: number;
  /** local re-runs of a slice whose sandbox died before it finished */
  maxSliceRetries?: number;
  /** socket.io path style of the scheduler (5 = `<path>dcp5/socketio`) */
  pathStyle?: 4 | 5;
  logger?: Logger;
  httpFetch?: HttpFetch;
  /** subscribe to SchedMsg commands (default true) */
  schedMsg?: boolean;
}

/** Signed DCP envelopes of one worker, both ways (see `SupervisorCore.dcpStats`). */
export interface DcpTraffic {
  envelopesSent: number;
  envelopesReceived: number;
  batchesSent: number;
  batchesReceived: number;
  /** requests sent, by operation: requestTask (Soteria included), status, result, workEmit */
  requests: Record<string, number>;
}

export type SliceState = 'queued' | 'working' | 'submitting';

/** A slice as the UI sees it. */
export interface SliceView {
  jobId: string;
  jobName: string;
  sliceNumber: number;
  state: SliceState;
  progress: number | undefined;
  sandboxId: number | undefined;
  startedAt: number | undefined;
}

interface SupervisorEvents {
  /** a requestTask answered (`slices` = how many we got) */
  fetch: (info: { slices: number; jobs: number }) => void;
  sliceStart: (slice: SliceView) => void;
  sliceProgress: (slice: SliceView) => void;
  /** a result was accepted; `payment` in DCC */
  result: (slice: SliceView, info: { payment: number; metrics: SliceMetrics }) => void;
  /** slices given back to the scheduler */
  returned: (info: { jobId: string; sliceNumbers: number[]; reason: string }) => void;
  sandboxes: (info: { open: number; working: number }) => void;
  /** something the operator should read */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** the supervisor wants the process to end with this code (SchedMsg kill/reload) */
  exit: (code: number) => void;
  stopped: () => void;
}

export interface SliceMetrics {
  CPUTime: number;
  GPUTime: number;
  CPUDensity: number;
  GPUDensity: number;
  InDataSize: number;
  OutDataSize: number;
}

interface JobState {
  id: string;
  message: JobMessage;
  name: string;
  /** work function source and arguments, downloaded once per job */
  ready: Promise<{ workFunction: string; arguments: unknown[]; bytes: number }>;
  idle: LineSandbox[];
  rejectRetries: number;
  /** slices of this job whose sandboxes a SchedMsg `remove` killed */
  removed: boolean;
}

interface SliceRecord {
  job: JobState;
  message: SliceMessage;
  sliceNumber: number;
  authorizationMessage: Record<string, unknown>;
  datum: Promise<{ value: unknown; bytes: number }> | undefined;
  state: SliceState;
  progress: number | undefined;
  sandbox: LineSandbox | undefined;
  startedAt: number | undefined;
  attempts: number;
  fetchBytes: number;
}

/** Result refusals that are the scheduler's trouble, not the result's: retried up to RESULT_ATTEMPTS. */
const TRANSIENT = new Set<string>([
  DcpErrorCode.EINTERNAL,
  DcpErrorCode.EPIPE,
  DcpErrorCode.ETIMEDOUT,
  DcpErrorCode.ECONNRESET,
]);
const RESULT_ATTEMPTS = 6;

const FETCH_NORMAL = 1;
const FETCH_NOTIFY_SOTERIA = 2;
const FETCH_STARTUP_CHECK = 4;

/**
 * Our DCP worker's supervisor (dcp-worker-protocol.md §4): asks the task distributor for slices with
 * `requestTask@3` as a 5.x worker, downloads the job artifacts, runs each slice in a sandbox (from
 * the `sandboxes` port), reports `status`/`result`/`workEmit`, follows SchedMsg commands, recovers
 * from sandboxes that die, and stops gracefully or at once. Imports nothing Node-only, so the
 * portal's browser worker runs it in a page (`@dcp-emu/worker/browser`).
 */
export class SupervisorCore extends Emitter<SupervisorEvents> {
  readonly options: Required<
    Omit<
      SupervisorCoreOptions,
      'schedulerOrigin' | 'httpFetch' | 'logger' | 'services' | 'sandboxes' | 'originPolicy' | 'resolveHost'
    >
  > & { services: ServiceLocations };
  readonly #openSandboxPort: SandboxFactory;
  readonly logger: Logger;
  readonly artifacts: ArtifactFetcher;
  readonly td: DcpInitiator;
  readonly rs: DcpInitiator;
  readonly er: DcpInitiator;
  readonly schedMsg: DcpInitiator;
  readonly #pm: DcpInitiator | undefined;
  readonly #jobs = new Map<string, JobState>();
  readonly #slices: SliceRecord[] = [];
  readonly #openSandboxes = new Set<LineSandbox>();
  readonly #rejectedJobs = new Set<string>();
  readonly #sessions = new Set<DcpSession>();
  /** requests we sent, by operation (dcpStats) */
  readonly #sent: Record<string, number> = {};
  #capabilities: Record<string, unknown> | undefined;
  #worktimes: unknown;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #fetching: Promise<void> | undefined;
  /** a fetch was asked for while one was in flight: run another when it ends */
  #fetchAgain = false;
  /** false after an empty answer until a wake-up or a non-empty answer: prefetches wait for the poll */
  #maybeWork = true;
  #fetchSeq = 0;
  #firstFetch = true;
  /** last time we told the scheduler we are alive (requestTask, status, result): Soteria waits for this */
  #lastContact = 0;
  /** slices whose `status begin` goes out on the next turn, in one message */
  #begins: SliceRecord[] = [];
  /** statusBegin 'task': tasks (by their authorization message) whose begin is pending or sent */
  readonly #begunTasks = new WeakMap<Record<string, unknown>, 'pending' | 'sent'>();
  /** results (and their retries) to send on the next turn, together with the begins */
  #outbox: Array<() => void> = [];
  #flushScheduled = false;
  #state: 'initial' | 'running' | 'stopping' | 'stopped' = 'initial';
  #immediate = false;
  #subscriptions: { label: string; token: string }[] = [];
  #seenEvents = new Set<string>();
  #evaluatorDownSince: number | undefined;
  #idleWaiters: Array<() => void> = [];
  #pumpScheduled = false;
  earned = 0;
  slicesCompleted = 0;

  constructor(options: SupervisorCoreOptions) {
    super();
    this.#openSandboxPort = options.sandboxes;
    this.options = {
      identity: options.identity,
      services: options.services,
      paymentAddress: options.paymentAddress,
      workerId: options.workerId,
      maxSandboxes: Math.max(1, Math.floor(options.maxSandboxes)),
      computeGroups: options.computeGroups ?? [],
      leavePublicGroup: options.leavePublicGroup ?? false,
      allowOrigins: options.allowOrigins ?? [],
      minimumWage: options.minimumWage ?? { CPU: 0, GPU: 0, in: 0, out: 0 },
      jobIds: options.jobIds ?? [],
      watchdogIntervalMs: options.watchdogIntervalMs ?? 1_000,
      statusBegin: options.statusBegin ?? 'task',
      maxSubmitting: options.maxSubmitting ?? 4 * Math.max(1, Math.floor(options.maxSandboxes)),
      progressTimeoutMs: options.progressTimeoutMs ?? 300_000,
      cleanupTimeoutMs: options.cleanupTimeoutMs ?? 60_000,
      sandboxCreationTimeoutMs: options.sandboxCreationTimeoutMs ?? 60_000,
      maxSandboxUse: options.maxSandboxUse ?? 200,
      maxSliceRetries: options.maxSliceRetries ?? 2,
      pathStyle: options.pathStyle ?? 5,
      schedMsg: options.schedMsg ?? true,
    };
    this.logger = options.logger ?? silentLogger;
    this.artifacts = new ArtifactFetcher(
      new OriginPolicy(options.schedulerOrigin, this.options.allowOrigins, options.originPolicy),
      options.httpFetch,
      undefined,
      options.resolveHost,
    );
    const initiator = (location: URL) =>
      new DcpInitiator({
        location,
        identity: options.identity,
        pathStyle: this.options.pathStyle,
        logger: this.logger,
      });
    this.td = initiator(options.services.taskDistributor);
    this.rs = initiator(options.services.resultSubmitter);
    this.er = initiator(options.services.eventRouter);
    this.schedMsg = initiator(options.services.eventRouter);
    this.#pm = options.services.packageManager ? initiator(options.services.packageManager) : undefined;
    this.schedMsg.on('request', (req) => this.#onSchedMsg(req));
    for (const i of [this.td, this.rs, this.er, this.schedMsg, this.#pm])
      i?.on('session', (s) => this.#sessions.add(s));
  }

  /**
   * DCP traffic of this worker so far, over all its sessions: signed envelopes (messages — a batch is
   * one — plus acks) each way, and how many of the messages were batches. Every envelope we send is
   * one the scheduler receives and the other way round, so these are the scheduler's figures for us.
   */
  dcpStats(): DcpTraffic {
    const t: DcpTraffic = {
      envelopesSent: 0,
      envelopesReceived: 0,
      batchesSent: 0,
      batchesReceived: 0,
      requests: { ...this.#sent },
    };
    for (const s of this.#sessions) {
      t.envelopesSent += s.stats.txMessages + s.stats.txAcks;
      t.envelopesReceived += s.stats.rxMessages + s.stats.rxAcks;
      t.batchesSent += s.stats.txBatches;
      t.batchesReceived += s.stats.rxBatches;
    }
    return t;
  }

  get state(): string {
    return this.#state;
  }

  /** Slices held now (queued, working, submitting). */
  slices(): SliceView[] {
    return this.#slices.map(view);
  }

  get openSandboxes(): number {
    return this.#openSandboxes.size;
  }

  get workingSlices(): number {
    return this.#slices.filter((s) => s.state === 'working').length;
  }

  /** Waits for a sandbox (capabilities), subscribes to SchedMsg and starts fetching. */
  async start(): Promise<void> {
    if (this.#state !== 'initial') throw new Error(`supervisor already ${this.#state}`);
    this.#state = 'running';
    if (this.options.schedMsg) void this.#subscribe();
    this.#watchdog = setInterval(() => void this.fetchTask(), this.options.watchdogIntervalMs);
    void this.fetchTask();
  }

  /**
   * One fetch cycle: asks for as many slices as there is free capacity, then starts them. Returns
   * when the request is answered (never rejects; failures are logged and retried on the next tick).
   * Called while a fetch is in flight, it runs one more fetch after it (a wake-up must not be lost).
   */
  fetchTask(): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    if (this.#fetching) {
      this.#fetchAgain = true;
      return this.#fetching;
    }
    this.#fetchAgain = false;
    const fetching = this.#fetchOnce()
      .catch((e) => this.#log('warn', `requestTask failed: ${(e as Error).message}`))
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

  /**
   * Prefetch: ask for more while fewer slices are queued than there are sandboxes, so a sandbox that
   * frees up finds its next slice here instead of waiting for a requestTask round trip. Results still
   * waiting for the scheduler's answer do not count, up to `maxSubmitting`.
   */
  #needsSlices(): boolean {
    let queued = 0;
    let submitting = 0;
    for (const s of this.#slices) {
      if (s.state === 'queued') queued++;
      else if (s.state === 'submitting') submitting++;
    }
    return queued < this.options.maxSandboxes && submitting < this.options.maxSubmitting;
  }

  /** A sandbox started or finished a slice: fetch ahead if the queue runs low and there may be work. */
  #prefetch(): void {
    if (this.#state === 'running' && this.#maybeWork && this.#needsSlices()) void this.fetchTask();
  }

  async #fetchOnce(): Promise<void> {
    let queued = 0;
    let working = 0;
    for (const s of this.#slices)
      if (s.state === 'queued') queued++;
      else if (s.state === 'working') working++;
    if (!this.#needsSlices()) {
      if (this.#slices.length > 0) await this.#soteria();
      return;
    }
    // room for one slice in every sandbox and one queued behind it
    const space = Math.max(1, 2 * this.options.maxSandboxes - queued - working);
    if (!this.#capabilities) {
      const sandbox = await this.#openSandbox();
      this.#releaseSpare(sandbox);
    }
    if (this.#state !== 'running') return;
    const fetchState = this.#firstFetch ? FETCH_NORMAL | FETCH_STARTUP_CHECK : FETCH_NORMAL;
    const session = await this.td.connect();
    const dcpsid = session.dcpsid ?? '';
    const request: Record<string, unknown> = {
      targetLoad: { cpu: space, gpu: 0, longSlices: Math.floor(space) },
      coreStats: {
        worker: this.options.workerId,
        lCores: this.options.maxSandboxes,
        pCores: this.options.maxSandboxes,
        sandbox: this.options.maxSandboxes,
      },
      jobQuanta: { CPU: { 0: 1 }, GPU: { 0: 1 } },
      capabilities: capabilityBits(this.#capabilities ?? {}),
      paymentAddress: this.options.paymentAddress,
      jobIds: this.options.jobIds,
      workerComputeGroups: workerComputeGroups(
        this.options.computeGroups,
        this.options.leavePublicGroup,
        dcpsid,
      ),
      minimumWage: this.options.minimumWage,
      soteriaJobs: null,
      overdueSlices: null,
      previouslyWorkedJobs: [],
      rejectedJobs: [...this.#rejectedJobs],
      unresolvedJobs: [],
      fetchState,
      worktimes: this.#worktimes ?? [{ name: 'map-basic', versions: ['1.0.0'] }],
      seq: this.#fetchSeq++,
    };
    if (fetchState & FETCH_STARTUP_CHECK)
      request.returnAllSlices = JSON.parse(seal(this.options.identity, { id: this.options.workerId }));
    this.#lastContact = Date.now();
    this.#count('requestTask');
    const raw = await session.request('requestTask@3', request);
    this.#firstFetch = false;
    const payload = taskPayloadSchema.parse(raw);
    const newJobs = payload.body?.newJobs;
    if (!newJobs || Object.keys(newJobs).length === 0) {
      this.#maybeWork = false;
      this.emit('fetch', { slices: 0, jobs: 0 });
      return;
    }
    this.#maybeWork = true;
    const { body: _body, ...authorizationMessage } = payload;
    if (this.options.jobIds.length && !Object.keys(newJobs).every((j) => this.options.jobIds.includes(j))) {
      this.#log('error', 'the scheduler sent slices of jobs this worker was not asked to work on; stopping');
      this.#returnTask(payload, authorizationMessage, 'Worker received slices it should not have');
      void this.stop(true);
      return;
    }
    for (const [cg, purposes] of Object.entries(payload.body?.computeGroupOrigins ?? {}))
      for (const [purpose, origins] of Object.entries(purposes))
        for (const o of origins) {
          this.artifacts.origins.add(o, purpose as never);
          this.logger.debug({ cg, purpose, origin: o }, 'compute group origin allowed');
        }
    let count = 0;
    for (const [key, jobMessage] of Object.entries(newJobs)) {
      const jobId = jobMessage.jobId ?? jobMessage.address ?? key;
      const job = this.#job(jobId, jobMessage);
      const duplicates: number[] = [];
      for (const m of payload.body?.task?.[key] ?? []) {
        if (this.#slices.some((s) => s.job.id === jobId && s.sliceNumber === m.sliceNumber)) {
          duplicates.push(m.sliceNumber);
          continue;
        }
        const slice: SliceRecord = {
          job,
          message: m,
          sliceNumber: m.sliceNumber,
          authorizationMessage,
          datum: undefined,
          state: 'queued',
          progress: undefined,
          sandbox: undefined,
          startedAt: undefined,
          attempts: 0,
          fetchBytes: 0,
        };
        slice.datum = this.#fetchDatum(slice);
        slice.datum.catch(() => undefined);
        this.#slices.push(slice);
        count++;
      }
      if (duplicates.length)
        void this.#sendReturn(jobId, authorizationMessage, duplicates, 'return duplicate slice');
    }
    this.emit('fetch', { slices: count, jobs: Object.keys(newJobs).length });
    this.#pump();
    // a task smaller than our free room: there may be more, ask again once this one is started
    if (count > 0 && this.#needsSlices()) this.#fetchAgain = true;
  }

  /**
   * A Soteria-only requestTask (fetchState 2, no targetLoad): tells the scheduler which slices we
   * still hold so their leases stay alive while every sandbox is busy with long slices.
   */
  async #soteria(): Promise<void> {
    const now = Date.now();
    // results and status messages keep the leases alive as well: only a quiet worker needs Soteria
    if (now - this.#lastContact < this.options.watchdogIntervalMs) return;
    this.#lastContact = now;
    const soteriaJobs: Record<string, number[]> = {};
    for (const s of this.#slices) {
      soteriaJobs[s.job.id] ??= [];
      soteriaJobs[s.job.id]?.push(s.sliceNumber);
    }
    this.#count('requestTask');
    await this.td.request('requestTask@3', {
      coreStats: { worker: this.options.workerId },
      paymentAddress: this.options.paymentAddress,
      soteriaJobs,
      overdueSlices: null,
      fetchState: FETCH_NOTIFY_SOTERIA,
    });
  }

  #returnTask(
    payload: ReturnType<typeof taskPayloadSchema.parse>,
    auth: Record<string, unknown>,
    reason: string,
  ) {
    for (const [key, slices] of Object.entries(payload.body?.task ?? {})) {
      const job = payload.body?.newJobs?.[key];
      void this.#sendReturn(
        job?.jobId ?? job?.address ?? key,
        auth,
        slices.map((s) => s.sliceNumber),
        reason,
      );
    }
  }

  #job(jobId: string, message: JobMessage): JobState {
    const known = this.#jobs.get(jobId);
    if (known) return known;
    const job: JobState = {
      id: jobId,
      message,
      name: typeof message.public.name === 'string' ? message.public.name : jobId,
      ready: this.#fetchJobArtifacts(message),
      idle: [],
      rejectRetries: 0,
      removed: false,
    };
    job.ready.catch(() => undefined);
    this.#jobs.set(jobId, job);
    return job;
  }

  async #fetchJobArtifacts(
    m: JobMessage,
  ): Promise<{ workFunction: string; arguments: unknown[]; bytes: number }> {
    let bytes = 0;
    let workFunction = m.workFunction;
    if (!workFunction) {
      if (!m.codeLocation)
        throw new DcpError(DcpErrorCode.EFETCH, 'job has neither workFunction nor codeLocation');
      const a = await this.artifacts.fetch(m.codeLocation, 'fetchWorkFunctions', {
        cache: true,
        asText: true,
      });
      bytes += a.bytes;
      workFunction = String(a.value);
    }
    const args = [...(m.arguments ?? [])];
    if (!m.arguments && m.argumentsLocation) {
      const fetched = await Promise.all(
        m.argumentsLocation.map((l) => this.artifacts.fetch(l.value, 'fetchArguments', { cache: true })),
      );
      m.argumentsLocation.forEach((l, i) => {
        const a = fetched[i];
        if (!a) return;
        bytes += a.bytes;
        args[l.argIndex] = a.value;
      });
    }
    return { workFunction, arguments: args, bytes };
  }

  async #fetchDatum(slice: SliceRecord): Promise<{ value: unknown; bytes: number }> {
    const uri = slice.message.datumUri;
    if (typeof uri !== 'string')
      throw new DcpError(DcpErrorCode.EFETCH, `slice ${slice.sliceNumber} has no datumUri`);
    return this.artifacts.fetch(uri, 'fetchData');
  }

  /** Starts queued slices while there is room. */
  #pump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      if (this.#state !== 'running') return;
      let working = 0;
      let submitting = 0;
      for (const s of this.#slices)
        if (s.state === 'working') working++;
        else if (s.state === 'submitting') submitting++;
      // a scheduler that answers results slower than we compute them sets the pace
      if (submitting >= this.options.maxSubmitting) return;
      for (const slice of this.#slices) {
        if (working >= this.options.maxSandboxes) break;
        if (slice.state !== 'queued') continue;
        slice.state = 'working';
        working++;
        void this.#run(slice);
      }
      this.#prefetch();
    });
  }

  async #run(slice: SliceRecord): Promise<void> {
    const job = slice.job;
    let artifacts: { workFunction: string; arguments: unknown[]; bytes: number };
    let datum: { value: unknown; bytes: number };
    try {
      artifacts = await job.ready;
    } catch (e) {
      this.#rejectedJobs.add(job.id);
      this.#log('warn', `job ${job.name}: artifacts unavailable: ${(e as Error).message}`);
      this.#returnJob(job, errorCode(e, DcpErrorCode.EFETCH));
      return;
    }
    try {
      datum = await (slice.datum ?? this.#fetchDatum(slice));
    } catch (e) {
      this.#finish(slice);
      void this.#sendReturn(
        job.id,
        slice.authorizationMessage,
        [slice.sliceNumber],
        errorCode(e, DcpErrorCode.EFETCH),
      );
      return;
    }
    if (!this.#holds(slice)) return;
    let sandbox: LineSandbox;
    try {
      sandbox = await this.#sandboxFor(job, artifacts);
    } catch (e) {
      if (!this.#holds(slice)) return;
      if (e instanceof DcpError && e.code === DcpErrorCode.ESANDBOX && this.#state === 'running') {
        // the evaluator is gone: keep the slice queued and retry until sandboxCreationTimeoutMs
        slice.state = 'queued';
        this.#evaluatorDown();
        return;
      }
      this.#finish(slice);
      this.#log('warn', `job ${job.name}: assign failed: ${(e as Error).message}`);
      void this.#sendReturn(
        job.id,
        slice.authorizationMessage,
        [slice.sliceNumber],
        errorCode(e, DcpErrorCode.ESANDBOX),
      );
      return;
    }
    this.#evaluatorDownSince = undefined;
    if (!this.#holds(slice) || this.#immediate) {
      sandbox.close();
      return;
    }
    slice.sandbox = sandbox;
    slice.startedAt = Date.now();
    slice.attempts++;
    const onProgress = (p: number | undefined) => {
      slice.progress = p;
      this.emit('sliceProgress', view(slice));
    };
    const onConsole = (payload: Record<string, unknown>) => this.#workEmit(slice, 'console', payload);
    const onCustom = (payload: Record<string, unknown>) => this.#workEmit(slice, 'custom', payload);
    sandbox.on('progress', onProgress);
    sandbox.on('console', onConsole);
    sandbox.on('custom', onCustom);
    this.emit('sliceStart', view(slice));
    this.#emitSandboxes();
    this.#begin(slice);
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

  async #settle(slice: SliceRecord, sandbox: LineSandbox, outcome: SliceOutcome, jobBytes: number) {
    const job = slice.job;
    if (!this.#holds(slice)) {
      sandbox.close();
      return;
    }
    switch (outcome.kind) {
      case 'complete':
      case 'workError': {
        this.#reuse(job, sandbox);
        let value: unknown = outcome.kind === 'complete' ? outcome.result : undefined;
        if (outcome.kind === 'workError') {
          const err = new Error(String(outcome.error.message ?? 'work function error'));
          Object.assign(err, outcome.error, { errorCode: DcpErrorCode.EUNCAUGHT });
          if (typeof outcome.error.name === 'string') err.name = outcome.error.name;
          value = err;
          this.#workEmit(slice, 'error', {
            name: err.name,
            message: err.message,
            stack: outcome.error.stack,
            code: DcpErrorCode.EUNCAUGHT,
            timestamp: new Date().toISOString(),
          });
        }
        // the sandbox takes its next slice now; the result's answer is awaited meanwhile
        const submitted = this.#submit(slice, value, outcome.measurement, jobBytes);
        this.#emitSandboxes();
        this.#pump();
        await submitted;
        break;
      }
      case 'workReject': {
        sandbox.close();
        if (job.rejectRetries < outcome.retries) {
          job.rejectRetries++;
          slice.state = 'queued';
          this.#pump();
          break;
        }
        this.#rejectedJobs.add(job.id);
        this.#log('warn', `job ${job.name} rejected by its work function: ${String(outcome.reason)}`);
        this.#finish(slice);
        void this.#sendReturn(
          job.id,
          slice.authorizationMessage,
          [slice.sliceNumber],
          DcpErrorCode.EWORKREJECT,
        );
        this.#returnJob(job, DcpErrorCode.EWORKREJECT);
        break;
      }
      case 'failed': {
        sandbox.close();
        const lost = outcome.code === DcpErrorCode.ESANDBOX;
        if (
          lost &&
          this.#state === 'running' &&
          !job.removed &&
          slice.attempts <= this.options.maxSliceRetries
        ) {
          // the evaluator (or its connection) died under the slice: run it again in a new sandbox
          this.#log(
            'warn',
            `sandbox ${sandbox.id} lost (${outcome.message}); re-running slice ${slice.sliceNumber}`,
          );
          slice.state = 'queued';
          slice.progress = undefined;
          this.#pump();
          break;
        }
        this.#finish(slice);
        if (!lost)
          this.#workEmit(slice, 'error', {
            name: job.name,
            message: outcome.message,
            code: outcome.code,
            timestamp: new Date().toISOString(),
          });
        const reason = this.#state === 'running' ? outcome.code : 'JobManager destroy';
        void this.#sendReturn(job.id, slice.authorizationMessage, [slice.sliceNumber], reason);
        break;
      }
    }
    this.#emitSandboxes();
    this.#pump();
  }

  async #submit(slice: SliceRecord, value: unknown, m: Measurement, jobBytes: number): Promise<void> {
    slice.state = 'submitting';
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
      worker: this.options.workerId,
      paymentAddress: this.options.paymentAddress,
      metrics,
      authorizationMessage: slice.authorizationMessage,
      resultV2: kvinFor(5).marshal(encoded),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = resultResponseSchema.parse(
          await this.#outgoing(() => {
            this.#lastContact = Date.now();
            this.#count('result');
            return this.rs.request('result', data);
          }),
        );
        const payment = Number(res.slicePaymentAmount ?? 0) || 0;
        this.earned += payment;
        this.slicesCompleted++;
        this.#finish(slice);
        this.emit('result', view(slice), { payment, metrics });
        return;
      } catch (e) {
        // the scheduler's own trouble (a busy database, a dropped session) is not the job's fault:
        // the result is valid, so try again a few times with a growing pause before giving it back
        const transient = e instanceof DcpError && TRANSIENT.has(String(e.code));
        if (transient && attempt < RESULT_ATTEMPTS && this.#state !== 'stopped') {
          await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
          continue;
        }
        if (transient || attempt >= 2 || !(e instanceof DcpError)) {
          this.#log('warn', `result of slice ${slice.sliceNumber} refused: ${(e as Error).message}`);
          this.#finish(slice);
          void this.#sendReturn(
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

  /** Idle sandbox already assigned to the job, or a new one assigned now. */
  async #sandboxFor(
    job: JobState,
    artifacts: { workFunction: string; arguments: unknown[] },
  ): Promise<LineSandbox> {
    for (;;) {
      const s = job.idle.shift();
      if (!s) break;
      if (s.isOpen && s.slicesRun < this.options.maxSandboxUse) return s;
      s.close();
    }
    this.#makeRoom();
    const sandbox = await this.#openSandbox();
    const m = job.message;
    try {
      await sandbox.assign(
        {
          id: job.id,
          arguments: artifacts.arguments,
          dependencies: m.dependencies,
          modulePath: m.modulePath,
          requirePath: m.requirePath,
          public: m.public,
          workFunction: artifacts.workFunction,
          useStrict: m.useStrict ?? false,
          worktime: { name: m.worktime.name, version: m.worktime.version },
        },
        { environment: {}, ...m.requirements },
        { progressThrottle: 0.1 },
      );
    } catch (e) {
      sandbox.close();
      throw e;
    }
    return sandbox;
  }

  async #openSandbox(): Promise<LineSandbox> {
    const sandbox = await this.#openSandboxPort(this.#host(), {
      generalMs: 20_000,
      progressMs: this.options.progressTimeoutMs,
      connectMs: 10_000,
    });
    this.#capabilities ??= sandbox.capabilities;
    this.#worktimes ??= sandbox.worktimes;
    this.#openSandboxes.add(sandbox);
    sandbox.on('end', () => {
      this.#openSandboxes.delete(sandbox);
      for (const job of this.#jobs.values()) job.idle = job.idle.filter((s) => s !== sandbox);
      this.#emitSandboxes();
    });
    return sandbox;
  }

  /**
   * Sandboxes stay assigned to their job for reuse; before opening another one, close idle
   * sandboxes of other jobs (oldest job first) so at most maxSandboxes are open, and forget jobs
   * that hold neither slices nor sandboxes.
   */
  #makeRoom(): void {
    for (const job of this.#jobs.values()) {
      if (this.#openSandboxes.size < this.options.maxSandboxes) break;
      for (const s of job.idle.splice(0)) s.close();
    }
    for (const [id, job] of this.#jobs)
      if (job.idle.length === 0 && !this.#slices.some((s) => s.job === job)) this.#jobs.delete(id);
  }

  #releaseSpare(sandbox: LineSandbox): void {
    sandbox.close();
  }

  #reuse(job: JobState, sandbox: LineSandbox): void {
    if (this.#state !== 'running' || !sandbox.isOpen || sandbox.slicesRun >= this.options.maxSandboxUse) {
      sandbox.close();
      return;
    }
    job.idle.push(sandbox);
  }

  #evaluatorDown(): void {
    const now = Date.now();
    this.#evaluatorDownSince ??= now;
    if (now - this.#evaluatorDownSince > this.options.sandboxCreationTimeoutMs) {
      this.#log('error', 'evaluator cannot create new sandboxes; returning all unfinished slices');
      this.#evaluatorDownSince = undefined;
      for (const job of [...this.#jobs.values()]) this.#returnJob(job, 'JobManager evaluatorDownCleanup');
      return;
    }
    unref(setTimeout(() => this.#pump(), 250));
  }

  #host(): SandboxHost {
    return {
      modules: (ids) => this.#modules(ids),
      fetch: (req) => this.#workerFetch(req),
    };
  }

  async #modules(ids: string[]): Promise<Record<string, Record<string, string>>> {
    if (!this.#pm) throw new DcpError(DcpErrorCode.ENOMODULE, 'no package manager configured');
    const urls = (await this.#pm.request('fetchModuleURL', { modules: ids })) as Record<
      string,
      Record<string, string>
    >;
    const out: Record<string, Record<string, string>> = {};
    for (const [pkg, files] of Object.entries(urls ?? {})) {
      out[pkg] = {};
      for (const [file, url] of Object.entries(files ?? {})) {
        // the package manager (a scheduler service) named this URL: trusted, as in dcp-client
        this.artifacts.origins.add(new URL(String(url)).origin, 'fetchModules');
        const a = await this.artifacts.fetch(String(url), 'fetchModules', { cache: true, asText: true });
        out[pkg][file] = String(a.value);
      }
    }
    return out;
  }

  async #workerFetch(req: FetchRequestData): Promise<FetchResponseData> {
    const res = await guardedFetch(
      this.artifacts.origins,
      req.url,
      'workerFetch',
      {
        method: req.method ?? 'GET',
        headers: req.headersEntries ?? [],
        body: req.bodyBuffer ? new Uint8Array(req.bodyBuffer) : undefined,
      },
      (url, init) => fetch(url, init),
      this.artifacts.resolveHost,
    );
    const body = new Uint8Array(await res.arrayBuffer());
    return {
      url: res.url,
      status: res.status,
      statusText: res.statusText,
      headersEntries: [...res.headers.entries()],
      bodyBuffer: body,
    };
  }

  #workEmit(slice: SliceRecord, eventName: string, payload: Record<string, unknown>): void {
    let p: Record<string, unknown> = { ...payload, jobName: slice.job.name };
    if (eventName === 'console') {
      const message = Array.isArray(payload.message) ? payload.message : [payload.message];
      p = { ...p, message: kvinFor(5).marshal(message), name: slice.job.name };
    }
    this.#count('workEmit');
    this.er
      .request('workEmit', {
        eventName,
        payload: p,
        job: slice.job.id,
        slice: slice.sliceNumber,
        worker: this.options.workerId,
        authorizationMessage: slice.authorizationMessage,
      })
      .catch((e) => this.logger.debug({ err: (e as Error).message }, 'workEmit failed'));
  }

  /**
   * `status begin` for a slice that starts: the slices started in one turn of the event loop go out
   * as one `status` message (one bucket per job and task), next to the results of that turn.
   */
  #begin(slice: SliceRecord): void {
    const mode = this.options.statusBegin;
    if (mode === 'none') return;
    if (mode === 'task') {
      const task = this.#begunTasks.get(slice.authorizationMessage);
      if (task === 'sent') return;
      this.#begunTasks.set(slice.authorizationMessage, 'pending');
    }
    this.#begins.push(slice);
    this.#scheduleFlush();
  }

  /**
   * Sends `request` on the next turn of the event loop with everything else of this turn (the
   * begins first, then the results), so the session packs them into as few envelopes as it can.
   */
  #outgoing<T>(request: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#outbox.push(() => request().then(resolve, reject));
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    void nextTurn().then(() => {
      this.#flushScheduled = false;
      const begun = this.#begins.splice(0);
      for (const s of begun) this.#begunTasks.set(s.authorizationMessage, 'sent');
      const started = begun.filter((s) => this.#holds(s));
      if (started.length) void this.#sendBegins(started);
      for (const send of this.#outbox.splice(0)) send();
    });
  }

  async #sendBegins(started: SliceRecord[]): Promise<void> {
    const buckets = new Map<
      Record<string, unknown>,
      Map<string, { sliceNumbers: number[]; job: string; authorizationMessage: Record<string, unknown> }>
    >();
    for (const s of started) {
      const byJob = buckets.get(s.authorizationMessage) ?? new Map();
      buckets.set(s.authorizationMessage, byJob);
      const b = byJob.get(s.job.id) ?? {
        sliceNumbers: [],
        job: s.job.id,
        authorizationMessage: s.authorizationMessage,
      };
      byJob.set(s.job.id, b);
      b.sliceNumbers.push(s.sliceNumber);
    }
    const slices = [...buckets.values()].flatMap((m) =>
      [...m.values()].map((b) => ({ ...b, status: 'begin' })),
    );
    this.#lastContact = Date.now();
    try {
      this.#count('status');
      await this.rs.request('status', { worker: this.options.workerId, slices });
    } catch (e) {
      this.logger.debug({ err: (e as Error).message }, 'status begin failed');
    }
  }

  async #sendReturn(
    jobId: string,
    authorizationMessage: Record<string, unknown>,
    sliceNumbers: number[],
    reason: string,
  ): Promise<void> {
    if (!sliceNumbers.length) return;
    this.emit('returned', { jobId, sliceNumbers, reason });
    try {
      this.#count('status');
      await this.rs.request('status', {
        worker: this.options.workerId,
        slices: [{ sliceNumbers, job: jobId, authorizationMessage, status: 'return', reason }],
      });
    } catch (e) {
      this.#log(
        'warn',
        `could not return slices ${sliceNumbers.join(',')} of ${jobId}: ${(e as Error).message}`,
      );
    }
  }

  /** Returns every unfinished slice of a job that is not running. */
  #returnJob(job: JobState, reason: string): void {
    const groups = new Map<Record<string, unknown>, number[]>();
    for (const s of [...this.#slices]) {
      if (s.job !== job || s.state === 'submitting' || s.sandbox) continue;
      this.#finish(s);
      const g = groups.get(s.authorizationMessage) ?? [];
      g.push(s.sliceNumber);
      groups.set(s.authorizationMessage, g);
    }
    for (const [auth, numbers] of groups) void this.#sendReturn(job.id, auth, numbers, reason);
    for (const s of job.idle.splice(0)) s.close();
  }

  #holds(slice: SliceRecord): boolean {
    return this.#slices.includes(slice);
  }

  #finish(slice: SliceRecord): void {
    const i = this.#slices.indexOf(slice);
    if (i >= 0) this.#slices.splice(i, 1);
    if (this.#slices.length === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #count(operation: string): void {
    this.#sent[operation] = (this.#sent[operation] ?? 0) + 1;
  }

  #emitSandboxes(): void {
    this.emit('sandboxes', { open: this.#openSandboxes.size, working: this.workingSlices });
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.logger[level]({}, message);
    this.emit('log', level, message);
  }

  async #subscribe(): Promise<void> {
    const filter = {
      $or: [
        { target: this.options.identity.address },
        { target: this.options.workerId },
        { broadcast: true },
      ],
    };
    // schedmsg::wake: "work is available" pushes of dcp-emu's scheduler (dcp-worker never asks for them)
    await Promise.all(
      ['schedmsg::broadcast', 'schedmsg::command', 'schedmsg::wake'].map(async (label) => {
        try {
          const res = subscribeResponseSchema.parse(
            await this.schedMsg.request('subscribe', { label, options: { filter } }),
          );
          this.#subscriptions.push({ label, token: res.token });
        } catch (e) {
          this.logger.debug({ label, err: (e as Error).message }, 'SchedMsg subscribe failed');
        }
      }),
    );
  }

  #onSchedMsg(req: IncomingRequest): void {
    if (req.operation !== 'event') {
      req.fail(new DcpError(DcpErrorCode.ENOTSUP, `unknown operation ${req.operation}`));
      return;
    }
    const parsed = schedMsgEventSchema.safeParse(req.data);
    if (!parsed.success) {
      req.fail(new DcpError(DcpErrorCode.EINVAL, 'malformed SchedMsg event'));
      return;
    }
    const id = String(parsed.data.event.eventId ?? '');
    if (id && this.#seenEvents.has(id)) {
      req.fail(new DcpError(DcpErrorCode.EDUP, `duplicate event ${id}`));
      return;
    }
    if (id) {
      this.#seenEvents.add(id);
      // remember the latest ids only (wake-ups arrive all the time)
      if (this.#seenEvents.size > 1000)
        for (const old of this.#seenEvents) {
          this.#seenEvents.delete(old);
          break;
        }
    }
    req.respond('success');
    this.#command(parsed.data.event.data);
  }

  #command(event: SchedMsgEvent['event']['data']): void {
    const payload = event.payload ?? {};
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
        this.#log('warn', 'The scheduler asked this worker to reload');
        void this.stop(false).then(() => this.emit('exit', 13));
        return;
      case 'restart':
        this.#log('warn', 'The scheduler asked this worker to restart');
        void this.stop(false).then(() => this.emit('exit', 13));
        return;
      case 'remove': {
        const jobId = String(payload.jobAddress ?? payload.jobId ?? '');
        const job = this.#jobs.get(jobId);
        if (!job) return;
        this.#log('warn', `The scheduler removed job ${job.name}`);
        job.removed = true;
        this.#rejectedJobs.add(jobId);
        this.#returnJob(job, 'remove');
        for (const s of this.#slices) if (s.job === job && s.sandbox) s.sandbox.close();
        return;
      }
      case 'addPriorityJob': {
        const jobId = String(payload.jobAddress ?? payload.jobId ?? '');
        if (jobId && !this.options.jobIds.includes(jobId)) this.options.jobIds.push(jobId);
        return;
      }
      case 'removePriorityJob': {
        const jobId = String(payload.jobAddress ?? payload.jobId ?? '');
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
    await withTimeout(this.#fetching ?? Promise.resolve(), 3_000);
    const queued = this.#slices.filter((s) => s.state === 'queued');
    this.#returnSlices(queued, 'stopWork returning all queued slices');
    await withTimeout(this.#unsubscribe(), 3_000);
    if (immediate) this.#escalate();
    await this.#whenIdle(this.options.cleanupTimeoutMs);
    await this.#close();
  }

  #escalate(): void {
    this.#immediate = true;
    const left = [...this.#slices];
    for (const s of left) s.sandbox?.close();
    this.#returnSlices(
      left.filter((s) => s.state !== 'submitting'),
      'JobManager destroy',
    );
  }

  #returnSlices(slices: SliceRecord[], reason: string): void {
    const groups = new Map<string, { jobId: string; auth: Record<string, unknown>; numbers: number[] }>();
    const authIds = new Map<Record<string, unknown>, number>();
    for (const s of slices) {
      if (!authIds.has(s.authorizationMessage)) authIds.set(s.authorizationMessage, authIds.size);
      const key = `${s.job.id} ${authIds.get(s.authorizationMessage)}`;
      const g = groups.get(key) ?? { jobId: s.job.id, auth: s.authorizationMessage, numbers: [] };
      g.numbers.push(s.sliceNumber);
      groups.set(key, g);
      this.#finish(s);
    }
    for (const g of groups.values()) void this.#sendReturn(g.jobId, g.auth, g.numbers, reason);
  }

  #whenIdle(timeoutMs: number): Promise<void> {
    if (this.#slices.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#log('warn', `stop: ${this.#slices.length} slices still unfinished after ${timeoutMs} ms`);
        this.#escalate();
        resolve();
      }, timeoutMs);
      unref(timer);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #unsubscribe(): Promise<void> {
    const subs = this.#subscriptions.splice(0);
    await Promise.all(
      subs.map((s) =>
        this.schedMsg
          .request('unsubscribe', { label: s.label, token: { token: s.token, options: {} } })
          .catch(() => undefined),
      ),
    );
  }

  async #close(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    for (const s of [...this.#openSandboxes]) s.close();
    // let pending status/return requests go out before closing the sessions
    await nextTurn();
    await Promise.all(
      [this.td, this.rs, this.er, this.schedMsg, this.#pm].map((i) =>
        i ? withTimeout(i.close(), 3_000).catch(() => undefined) : undefined,
      ),
    );
    this.emit('stopped');
  }
}

function view(s: SliceRecord): SliceView {
  return {
    jobId: s.job.id,
    jobName: s.job.name,
    sliceNumber: s.sliceNumber,
    state: s.state,
    progress: s.progress,
    sandboxId: s.sandbox?.id,
    startedAt: s.startedAt,
  };
}

/** dcp-client 5.x `capabilities.toBits` (scheduler-constants): engine v8/spidermonkey/browser, environment, KVINv9. */
export function capabilityBits(caps: Record<string, unknown>): number {
  const engine = (caps.engine ?? {}) as Record<string, unknown>;
  const env = (caps.environment ?? {}) as Record<string, unknown>;
  let bits = 1 << 6; // KVINv9: we read and write KVIN v9
  if (engine.v8 ?? true) bits |= 1 << 0;
  if (engine.spidermonkey) bits |= 1 << 1;
  if (engine.browser) bits |= 1 << 2;
  if (env.offscreenCanvas) bits |= 1 << 3;
  if (env.fdlibm) bits |= 1 << 4;
  if (env.webgpu) bits |= 1 << 5;
  return bits;
}

function errorCode(e: unknown, fallback: string): string {
  return e instanceof DcpError ? String(e.code) : fallback;
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => unref(setTimeout(() => r(undefined), ms)))]);
}

/** Node timers keep the process alive unless unref'd; browser timers are numbers. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** The next turn of the event loop (setImmediate in Node, a zero timeout in browsers). */
function nextTurn(): Promise<void> {
  return new Promise((r) => {
    if (typeof setImmediate === 'function') setImmediate(r);
    else setTimeout(r, 0);
  });
}
