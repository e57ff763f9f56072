import {
  DcpError,
  DcpErrorCode,
  DcpInitiator,
  type DcpSession,
  type Identity,
  kvinFor,
  type Logger,
} from '@dcp-emu/protocol';
import type { ArtifactFetcher } from './artifacts';
import type { DcpTraffic, LogLevel, ServiceLocations } from './options';
import type { SliceRecord } from './slice-book';
import { nextTurn, withTimeout } from './util';

export interface SchedulerClientOptions {
  identity: Identity;
  services: ServiceLocations;
  workerId: string;
  pathStyle: 4 | 5;
  statusBegin: 'task' | 'slice' | 'none';
  /** least ms between two flushes of begins and results (see SupervisorOptions.resultBatchMs) */
  resultBatchMs: number;
  logger: Logger;
  artifacts: ArtifactFetcher;
  /** whether a slice is still held (a begin for a slice returned meanwhile is not sent) */
  holds: (slice: SliceRecord) => boolean;
  /** slices given back (the supervisor's `returned` event) */
  returned: (info: { jobId: string; sliceNumbers: number[]; reason: string }) => void;
  log: (level: LogLevel, message: string) => void;
}

/**
 * Everything the worker says to the scheduler's services, over one DCPv5 session each (task
 * distributor, result submitter, event router, package manager; SchedMsg has its own event-router
 * session): `requestTask@3`, `status` begin/return, `result`, `workEmit`, `fetchModuleURL`.
 *
 * Per turn of the event loop, the `status begin`s go out as one message, issued together with that
 * turn's results, so the session packs them into as few envelopes as it can.
 */
export class SchedulerClient {
  readonly td: DcpInitiator;
  readonly rs: DcpInitiator;
  readonly er: DcpInitiator;
  readonly schedMsg: DcpInitiator;
  readonly #pm: DcpInitiator | undefined;
  readonly #o: SchedulerClientOptions;
  readonly #sessions = new Set<DcpSession>();
  /** requests we sent, by operation (dcpStats) */
  readonly #sent: Record<string, number> = {};
  /** last time we told the scheduler we are alive (requestTask, status, result): Soteria waits for this */
  lastContact = 0;
  /** slices whose `status begin` goes out on the next turn, in one message */
  #begins: SliceRecord[] = [];
  /** statusBegin 'task': tasks (by their authorization message) whose begin is pending or sent */
  readonly #begunTasks = new WeakMap<Record<string, unknown>, 'pending' | 'sent'>();
  /** results (and their retries) to send on the next turn, together with the begins */
  #outbox: Array<() => void> = [];
  #flushScheduled = false;
  #lastFlush = Number.NEGATIVE_INFINITY;

  constructor(options: SchedulerClientOptions) {
    this.#o = options;
    const initiator = (location: URL) =>
      new DcpInitiator({
        location,
        identity: options.identity,
        pathStyle: options.pathStyle,
        logger: options.logger,
      });
    this.td = initiator(options.services.taskDistributor);
    this.rs = initiator(options.services.resultSubmitter);
    this.er = initiator(options.services.eventRouter);
    this.schedMsg = initiator(options.services.eventRouter);
    this.#pm = options.services.packageManager ? initiator(options.services.packageManager) : undefined;
    for (const i of this.#initiators()) i.on('session', (s) => this.#sessions.add(s));
  }

  #initiators(): DcpInitiator[] {
    return [this.td, this.rs, this.er, this.schedMsg, ...(this.#pm ? [this.#pm] : [])];
  }

  /** The task distributor's session (its `dcpsid` goes into the compute-group join hashes). */
  taskSession(): Promise<DcpSession> {
    return this.td.connect();
  }

  /** `requestTask@3` on `session` (a full request, or a Soteria-only heartbeat). */
  requestTask(request: Record<string, unknown>, session?: DcpSession): Promise<unknown> {
    this.lastContact = Date.now();
    this.count('requestTask');
    return session ? session.request('requestTask@3', request) : this.td.request('requestTask@3', request);
  }

  /** `result` for one slice, sent on the next turn with that turn's begins and results. */
  result(data: Record<string, unknown>): Promise<unknown> {
    return this.#outgoing(() => {
      this.lastContact = Date.now();
      this.count('result');
      return this.rs.request('result', data);
    });
  }

  /**
   * `status begin` for a slice that starts: the slices started in one turn of the event loop go out
   * as one `status` message (one bucket per job and task), next to the results of that turn.
   */
  begin(slice: SliceRecord): void {
    const mode = this.#o.statusBegin;
    if (mode === 'none') return;
    if (mode === 'task') {
      const task = this.#begunTasks.get(slice.authorizationMessage);
      if (task === 'sent') return;
      this.#begunTasks.set(slice.authorizationMessage, 'pending');
    }
    this.#begins.push(slice);
    this.#scheduleFlush();
  }

  /** `status return` of slices of one job and task; never rejects (a failure is logged). */
  async returnSlices(
    jobId: string,
    authorizationMessage: Record<string, unknown>,
    sliceNumbers: number[],
    reason: string,
  ): Promise<void> {
    if (!sliceNumbers.length) return;
    this.#o.returned({ jobId, sliceNumbers, reason });
    try {
      this.count('status');
      await this.rs.request('status', {
        worker: this.#o.workerId,
        slices: [{ sliceNumbers, job: jobId, authorizationMessage, status: 'return', reason }],
      });
    } catch (e) {
      this.#o.log(
        'warn',
        `could not return slices ${sliceNumbers.join(',')} of ${jobId}: ${(e as Error).message}`,
      );
    }
  }

  /** `workEmit` (console, custom, error events of a slice); fire and forget. */
  workEmit(slice: SliceRecord, eventName: string, payload: Record<string, unknown>): void {
    let p: Record<string, unknown> = { ...payload, jobName: slice.job.name };
    if (eventName === 'console') {
      const message = Array.isArray(payload.message) ? payload.message : [payload.message];
      p = { ...p, message: kvinFor(5).marshal(message), name: slice.job.name };
    }
    this.count('workEmit');
    this.er
      .request('workEmit', {
        eventName,
        payload: p,
        job: slice.job.id,
        slice: slice.sliceNumber,
        worker: this.#o.workerId,
        authorizationMessage: slice.authorizationMessage,
      })
      .catch((e) => this.#o.logger.debug({ err: (e as Error).message }, 'workEmit failed'));
  }

  /** A sandbox's `dependency` request: module ids → `fetchModuleURL` → URLs → sources. */
  async modules(ids: string[]): Promise<Record<string, Record<string, string>>> {
    if (!this.#pm) throw new DcpError(DcpErrorCode.ENOMODULE, 'no package manager configured');
    const urls = (await this.#pm.request('fetchModuleURL', { modules: ids })) as Record<
      string,
      Record<string, string>
    >;
    const artifacts = this.#o.artifacts;
    const out: Record<string, Record<string, string>> = {};
    for (const [pkg, files] of Object.entries(urls ?? {})) {
      out[pkg] = {};
      for (const [file, url] of Object.entries(files ?? {})) {
        // the package manager (a scheduler service) named this URL: trusted, as in dcp-client
        artifacts.origins.add(new URL(String(url)).origin, 'fetchModules');
        const a = await artifacts.fetch(String(url), 'fetchModules', { cache: true, asText: true });
        out[pkg][file] = String(a.value);
      }
    }
    return out;
  }

  count(operation: string): void {
    this.#sent[operation] = (this.#sent[operation] ?? 0) + 1;
  }

  /** Signed envelopes so far over all sessions (see `SupervisorCore.dcpStats`). */
  stats(): DcpTraffic {
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

  /** Lets pending status/return requests go out, then closes every session (each bounded by 3 s). */
  async close(): Promise<void> {
    await nextTurn();
    await Promise.all(this.#initiators().map((i) => withTimeout(i.close(), 3_000).catch(() => undefined)));
  }

  /**
   * Sends `request` on the next flush with everything else gathered until then (the begins first,
   * then the results), so the session packs them into as few envelopes as it can.
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
    // the next turn, or — while they flow — once resultBatchMs passed since the last flush
    const wait = this.#lastFlush + this.#o.resultBatchMs - Date.now();
    const turn = wait > 0 ? new Promise<void>((r) => setTimeout(r, wait)) : nextTurn();
    void turn.then(() => {
      this.#flushScheduled = false;
      this.#lastFlush = Date.now();
      const begun = this.#begins.splice(0);
      for (const s of begun) this.#begunTasks.set(s.authorizationMessage, 'sent');
      const started = begun.filter((s) => this.#o.holds(s));
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
    this.lastContact = Date.now();
    try {
      this.count('status');
      await this.rs.request('status', { worker: this.#o.workerId, slices });
    } catch (e) {
      this.#o.logger.debug({ err: (e as Error).message }, 'status begin failed');
    }
  }
}
