import type { Identity, Logger } from '@dcp-emu/protocol';
import type { HttpFetch, OriginPolicyOptions, ResolveHost } from './artifacts';
import type { ComputeGroupCredentials } from './compute-groups';
import type { SandboxFactory } from './line-sandbox';

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
   * while results flow, they (and the `status begin`s) leave at most every `resultBatchMs` ms (default
   * 20), so each signed envelope carries several: at full speed that divides the envelopes, signatures
   * and acks per slice on both ends; a result after a quiet spell leaves at once (0: every turn)
   */
  resultBatchMs?: number;
  /**
   * results awaiting the scheduler's answer at most (default 8 × maxSandboxes, at least 64): beyond it no slice
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

/** The options with every default filled in (`SupervisorCore.options`); `jobIds` changes with SchedMsg. */
export type CoreOptions = Required<
  Omit<
    SupervisorCoreOptions,
    'schedulerOrigin' | 'httpFetch' | 'logger' | 'services' | 'sandboxes' | 'originPolicy' | 'resolveHost'
  >
> & { services: ServiceLocations };

export function resolveOptions(options: SupervisorCoreOptions): CoreOptions {
  const maxSandboxes = Math.max(1, Math.floor(options.maxSandboxes));
  return {
    identity: options.identity,
    services: options.services,
    paymentAddress: options.paymentAddress,
    workerId: options.workerId,
    maxSandboxes,
    computeGroups: options.computeGroups ?? [],
    leavePublicGroup: options.leavePublicGroup ?? false,
    allowOrigins: options.allowOrigins ?? [],
    minimumWage: options.minimumWage ?? { CPU: 0, GPU: 0, in: 0, out: 0 },
    jobIds: options.jobIds ?? [],
    watchdogIntervalMs: options.watchdogIntervalMs ?? 1_000,
    statusBegin: options.statusBegin ?? 'task',
    resultBatchMs: options.resultBatchMs ?? 20,
    // room for a batching window's results plus those awaiting their answer
    maxSubmitting: options.maxSubmitting ?? Math.max(64, 8 * maxSandboxes),
    progressTimeoutMs: options.progressTimeoutMs ?? 300_000,
    cleanupTimeoutMs: options.cleanupTimeoutMs ?? 60_000,
    sandboxCreationTimeoutMs: options.sandboxCreationTimeoutMs ?? 60_000,
    maxSandboxUse: options.maxSandboxUse ?? 200,
    maxSliceRetries: options.maxSliceRetries ?? 2,
    pathStyle: options.pathStyle ?? 5,
    schedMsg: options.schedMsg ?? true,
  };
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

/** A slice's state as the UI sees it (the life states `preparing` and `running` are both `working`). */
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

export interface SliceMetrics {
  CPUTime: number;
  GPUTime: number;
  CPUDensity: number;
  GPUDensity: number;
  InDataSize: number;
  OutDataSize: number;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface SupervisorEvents {
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
  log: (level: LogLevel, message: string) => void;
  /** the supervisor wants the process to end with this code (SchedMsg kill/reload) */
  exit: (code: number) => void;
  stopped: () => void;
}
