import type { ArtifactFetcher } from './artifacts';
import { guardedFetch } from './artifacts';
import type { JobArtifacts, JobState, Jobs } from './jobs';
import type {
  FetchRequestData,
  FetchResponseData,
  LineSandbox,
  SandboxFactory,
  SandboxHost,
} from './line-sandbox';

export interface SandboxPoolOptions {
  /** opens one sandbox (the `sandboxes` port: a TCP evaluator connection, a Web Worker) */
  open: SandboxFactory;
  maxSandboxes: number;
  maxSandboxUse: number;
  progressTimeoutMs: number;
  sandboxCreationTimeoutMs: number;
  jobs: Jobs;
  artifacts: ArtifactFetcher;
  /** a sandbox's `dependency` request (the package manager) */
  modules: SandboxHost['modules'];
  /** whether any slice of `job` is held (a job without slices nor idle sandboxes is forgotten) */
  holdsSlices: (job: JobState) => boolean;
  /** a sandbox opened or ended */
  changed: () => void;
}

/**
 * The sandboxes: opened through the `sandboxes` port, assigned to one job each and kept for its
 * next slices (≤ `maxSandboxUse`), at most `maxSandboxes` open (idle sandboxes of other jobs are
 * closed first). The first sandbox's `describe` gives the capabilities and worktimes that go into
 * requestTask. A sandbox's host answers `dependency` (modules) and `fetchRequest` (a work
 * function's fetch under the `workerFetch` policy).
 */
export class SandboxPool {
  readonly #o: SandboxPoolOptions;
  readonly #open = new Set<LineSandbox>();
  readonly #host: SandboxHost;
  capabilities: Record<string, unknown> | undefined;
  worktimes: unknown;
  /** since when no sandbox could be opened */
  #downSince: number | undefined;

  constructor(options: SandboxPoolOptions) {
    this.#o = options;
    this.#host = { modules: (ids) => options.modules(ids), fetch: (req) => this.#workerFetch(req) };
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens a sandbox (and learns the capabilities from the first); it leaves the pool when it ends. */
  async open(): Promise<LineSandbox> {
    const sandbox = await this.#o.open(this.#host, {
      generalMs: 20_000,
      progressMs: this.#o.progressTimeoutMs,
      connectMs: 10_000,
    });
    this.capabilities ??= sandbox.capabilities;
    this.worktimes ??= sandbox.worktimes;
    this.#open.add(sandbox);
    sandbox.on('end', () => {
      this.#open.delete(sandbox);
      this.#o.jobs.dropSandbox(sandbox);
      this.#o.changed();
    });
    return sandbox;
  }

  /** Idle sandbox already assigned to the job, or a new one assigned now. */
  async forJob(job: JobState, artifacts: Pick<JobArtifacts, 'workFunction' | 'arguments'>) {
    for (;;) {
      const s = job.idle.shift();
      if (!s) break;
      if (s.isOpen && s.slicesRun < this.#o.maxSandboxUse) return s;
      s.close();
    }
    this.#makeRoom();
    const sandbox = await this.open();
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

  /** A sandbox whose slice ended: kept idle for the job's next slice, or closed (`keep` false, used up). */
  reuse(job: JobState, sandbox: LineSandbox, keep: boolean): void {
    if (!keep || !sandbox.isOpen || sandbox.slicesRun >= this.#o.maxSandboxUse) {
      sandbox.close();
      return;
    }
    job.idle.push(sandbox);
  }

  /** A sandbox was opened: the evaluator is up. */
  up(): void {
    this.#downSince = undefined;
  }

  /**
   * No sandbox could be opened (ESANDBOX): `false` while that has lasted less than
   * `sandboxCreationTimeoutMs`, then `true` once (the caller returns everything).
   */
  downTooLong(): boolean {
    const now = Date.now();
    this.#downSince ??= now;
    if (now - this.#downSince > this.#o.sandboxCreationTimeoutMs) {
      this.#downSince = undefined;
      return true;
    }
    return false;
  }

  /** Closes every open sandbox. */
  closeAll(): void {
    for (const s of [...this.#open]) s.close();
  }

  /**
   * Sandboxes stay assigned to their job for reuse; before opening another one, close idle
   * sandboxes of other jobs (oldest job first) so at most maxSandboxes are open, and forget jobs
   * that hold neither slices nor sandboxes.
   */
  #makeRoom(): void {
    for (const job of this.#o.jobs.all()) {
      if (this.#open.size < this.#o.maxSandboxes) break;
      for (const s of job.idle.splice(0)) s.close();
    }
    this.#o.jobs.forgetUnused(this.#o.holdsSlices);
  }

  async #workerFetch(req: FetchRequestData): Promise<FetchResponseData> {
    const artifacts = this.#o.artifacts;
    const res = await guardedFetch(
      artifacts.origins,
      req.url,
      'workerFetch',
      {
        method: req.method ?? 'GET',
        headers: req.headersEntries ?? [],
        body: req.bodyBuffer ? new Uint8Array(req.bodyBuffer) : undefined,
      },
      (url, init) => fetch(url, init),
      artifacts.resolveHost,
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
}
