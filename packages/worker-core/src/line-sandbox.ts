import { DcpError, DcpErrorCode, Emitter, type Kvin, kvinFor } from '@dcp-emu/protocol';
import type {
  AssignJob,
  FetchRequestData,
  LineChannel,
  Measurement,
  SandboxHost,
  SandboxTimeouts,
  SliceOutcome,
} from './sandbox-types';
import { defaultSandboxTimeouts } from './sandbox-types';

export {
  type AssignJob,
  defaultSandboxTimeouts,
  type FetchRequestData,
  type FetchResponseData,
  type LineChannel,
  type Measurement,
  type SandboxHost,
  type SandboxTimeouts,
  type SliceOutcome,
} from './sandbox-types';

interface SandboxEvents {
  console: (payload: Record<string, unknown>) => void;
  progress: (progress: number | undefined) => void;
  custom: (payload: Record<string, unknown>) => void;
  /** the connection is gone (evaluator closed it, died, or we closed it) */
  end: (reason: string) => void;
}

/** Opens one sandbox (the supervisor's port to whatever runs work functions). */
export type SandboxFactory = (host: SandboxHost, timeouts: SandboxTimeouts) => Promise<LineSandbox>;

type Waiter = {
  match: (ring: number, value: Record<string, unknown>) => boolean;
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
};

let nextSandboxId = 1;

/**
 * One sandbox = one line channel to an evaluator speaking DCP's line protocol (§5.2): we send
 * `{type:'workerMessage', message: kvin.marshal(msg)}` lines and read `MSG:`/`DIE:` lines back.
 * The channel is a TCP connection (`EvaluatorSandbox`, Node) or a Web Worker (the portal's browser
 * worker); everything above the lines is the same.
 */
export class LineSandbox extends Emitter<SandboxEvents> {
  readonly id = nextSandboxId++;
  capabilities: Record<string, unknown> | undefined;
  worktimes: unknown;
  jobId: string | undefined;
  slicesRun = 0;
  #waiters = new Set<Waiter>();
  #ended: string | undefined;
  #kvin: Kvin;

  constructor(
    private readonly channel: LineChannel,
    private readonly host: SandboxHost,
    readonly timeouts: SandboxTimeouts,
  ) {
    super();
    this.#kvin = kvinFor(5);
    channel.onLine((line) => this.#onLine(line));
    channel.onClose((reason) => this.#end(reason));
  }

  /** Wraps an open channel in a sandbox and runs `describe` (capabilities, worktimes). */
  static async start(
    channel: LineChannel,
    host: SandboxHost,
    timeouts: SandboxTimeouts = defaultSandboxTimeouts,
  ): Promise<LineSandbox> {
    const sandbox = new LineSandbox(channel, host, timeouts);
    try {
      const d = await sandbox.#call(
        { request: 'describe' },
        (ring, v) => ring === 2 && v.request === 'describe',
      );
      sandbox.capabilities = (d.capabilities as Record<string, unknown>) ?? {};
      sandbox.worktimes = d.worktimes;
    } catch (e) {
      sandbox.close();
      throw e;
    }
    return sandbox;
  }

  get isOpen(): boolean {
    return this.#ended === undefined;
  }

  /** applyRequirements → assign (answering `dependency`) → assigned. */
  async assign(
    job: AssignJob,
    requirements: Record<string, unknown>,
    sandboxConfig: Record<string, unknown>,
  ): Promise<void> {
    await this.#call(
      { request: 'applyRequirements', requirements, worktime: job.worktime.name },
      (ring, v) => ring === 1 && (v.request === 'applyRequirementsDone' || v.request === 'error'),
    ).then((v) => {
      if (v.request === 'error') throw this.#errorOf(v.error, 'applyRequirements failed');
    });
    const v = await this.#call(
      { request: 'assign', job: { ...job, address: job.id }, sandboxConfig },
      (ring, x) => ring === 2 && ['assigned', 'reject', 'error'].includes(String(x.request)),
    );
    if (v.request !== 'assigned') throw this.#errorOf(v.error, 'assign failed');
    this.jobId = job.id;
  }

  /** resetState → main(datum) → the ring-3 message that ends the slice. */
  async work(datum: unknown): Promise<SliceOutcome> {
    if (!this.isOpen)
      return { kind: 'failed', code: DcpErrorCode.ESANDBOX, message: this.#ended ?? 'closed' };
    try {
      await this.#call({ request: 'resetState' }, (ring, v) => ring === 2 && v.request === 'resetStateDone');
    } catch (e) {
      return { kind: 'failed', code: codeOf(e), message: (e as Error).message };
    }
    this.slicesRun++;
    let measurement: Measurement = { total: 0, CPU: 0, webGL: 0, webGPU: 0 };
    let progressed = false;
    let progressTimer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<SliceOutcome>((resolve) => {
      const finish = (o: SliceOutcome) => {
        clearTimeout(progressTimer);
        this.#waiters.delete(waiter);
        resolve(o);
      };
      const armProgress = () => {
        clearTimeout(progressTimer);
        progressTimer = setTimeout(() => {
          finish({
            kind: 'failed',
            code: DcpErrorCode.ENOPROGRESS,
            message: `No progress event was received in the last ${this.timeouts.progressMs / 1000} seconds.`,
          });
          this.close();
        }, this.timeouts.progressMs);
      };
      const waiter: Waiter = {
        match: (ring, v) => {
          if (ring !== 3) return false;
          switch (v.request) {
            case 'progress':
              progressed = true;
              armProgress();
              return false;
            case 'measurement':
              measurement = {
                total: num(v.total),
                CPU: num(v.CPU),
                webGL: num(v.webGL),
                webGPU: num(v.webGPU),
              };
              return false;
            case 'complete':
            case 'workError':
            case 'workReject':
            case 'noProgress':
            case 'sandboxError':
              return true;
            default:
              return false;
          }
        },
        resolve: (v) => {
          switch (v.request) {
            case 'complete':
              if (!progressed)
                finish({
                  kind: 'failed',
                  code: DcpErrorCode.ENOPROGRESS,
                  message: 'Sandbox never emitted a progress event.',
                });
              else finish({ kind: 'complete', result: v.result, measurement, progressed });
              return;
            case 'workError':
              finish({ kind: 'workError', error: errorRecord(v.error), measurement });
              return;
            case 'workReject': {
              const d = (v.workRejectData ?? {}) as { reason?: unknown; retries?: unknown };
              finish({ kind: 'workReject', reason: d.reason, retries: num(d.retries) });
              return;
            }
            case 'noProgress':
              finish({
                kind: 'failed',
                code: DcpErrorCode.ENOPROGRESS,
                message: String(v.message ?? 'no progress'),
              });
              return;
            default: {
              const e = errorRecord(v.error);
              finish({
                kind: 'failed',
                code: typeof e.code === 'string' ? e.code : DcpErrorCode.ESANDBOX,
                message: String(e.message ?? 'sandbox error'),
              });
            }
          }
        },
        reject: (e) => finish({ kind: 'failed', code: codeOf(e), message: e.message }),
      };
      this.#waiters.add(waiter);
      armProgress();
      this.#send({ request: 'main', data: datum });
    });
  }

  /** Ends the sandbox: `die`, then the channel. */
  close(): void {
    if (this.isOpen) {
      try {
        this.channel.write(JSON.stringify({ type: 'die' }));
      } catch {
        // channel already unusable
      }
    }
    this.channel.destroy();
    this.#end('closed by the supervisor');
  }

  #send(message: Record<string, unknown>): void {
    if (!this.isOpen) return;
    this.channel.write(JSON.stringify({ type: 'workerMessage', message: this.#kvin.marshal(message) }));
  }

  #call(
    message: Record<string, unknown>,
    match: (ring: number, value: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    if (!this.isOpen) return Promise.reject(new DcpError(DcpErrorCode.ESANDBOX, this.#ended ?? 'closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new DcpError(DcpErrorCode.ESANDBOX, `sandbox did not answer ${String(message.request)} in time`),
        );
      }, this.timeouts.generalMs);
      const waiter: Waiter = {
        match,
        resolve: (v) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
      this.#send(message);
    });
  }

  #end(reason: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    this.channel.destroy();
    const error = new DcpError(DcpErrorCode.ESANDBOX, reason);
    for (const w of [...this.#waiters]) w.reject(error);
    this.#waiters.clear();
    this.emit('end', reason);
  }

  #onLine(line: string): void {
    if (line.startsWith('DIE:')) {
      this.#end(`sandbox died: ${line.slice(4).trim()}`);
      return;
    }
    if (!line.startsWith('MSG:')) return;
    let ring: number;
    let value: Record<string, unknown>;
    try {
      const env = JSON.parse(line.slice(4)) as { type?: string; message?: unknown };
      if (env.type !== 'workerMessage') return;
      const m = env.message as { serialized?: boolean; message?: string };
      const decoded = (
        m && m.serialized === true && typeof m.message === 'string'
          ? this.#kvin.parse(m.message)
          : this.#kvin.unmarshal(env.message)
      ) as { ringSource: number; value: Record<string, unknown> };
      ring = decoded.ringSource;
      value = decoded.value ?? {};
    } catch {
      return;
    }
    if (ring === 0 && value.request === 'unrecoverable-evaluator') {
      this.#end(`unrecoverable evaluator: ${String(value.message)}`);
      return;
    }
    if (ring === 2 && value.request === 'dependency') {
      void this.#answerDependency(value);
      return;
    }
    if (ring === 2 && value.request === 'fetchRequest') {
      void this.#answerFetch(value);
      return;
    }
    if (ring === 3) {
      if (value.request === 'console') this.emit('console', (value.payload ?? {}) as Record<string, unknown>);
      else if (value.request === 'emitEvent')
        this.emit('custom', (value.payload ?? {}) as Record<string, unknown>);
      else if (value.request === 'progress')
        this.emit('progress', value.indeterminate ? undefined : num(value.progress));
    }
    for (const w of [...this.#waiters]) {
      if (w.match(ring, value)) {
        w.resolve(value);
        break;
      }
    }
  }

  async #answerDependency(value: Record<string, unknown>): Promise<void> {
    const ids = Array.isArray(value.data) ? value.data.map(String) : [];
    try {
      const data = await this.host.modules(ids);
      this.#send({ request: 'moduleGroup', id: value.id, data });
    } catch (e) {
      this.#send({ request: 'moduleGroupError', id: value.id, stack: (e as Error).message });
    }
  }

  async #answerFetch(value: Record<string, unknown>): Promise<void> {
    try {
      const data = await this.host.fetch((value.data ?? {}) as FetchRequestData);
      this.#send({ request: 'fetchResponse', id: value.id, data });
    } catch (e) {
      const err = e as Error;
      this.#send({
        request: 'fetchError',
        id: value.id,
        error: { name: 'DCPError', message: err.message, stack: '' },
      });
    }
  }

  #errorOf(error: unknown, fallback: string): DcpError {
    const e = errorRecord(error);
    return new DcpError(
      typeof e.code === 'string' ? e.code : DcpErrorCode.EUNCAUGHT,
      String(e.message ?? fallback),
    );
  }
}

function num(v: unknown): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

function errorRecord(error: unknown): Record<string, unknown> {
  if (error && typeof error === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.getOwnPropertyNames(error)) out[k] = (error as Record<string, unknown>)[k];
    if (error instanceof Error) {
      out.name = error.name;
      out.message = error.message;
    }
    return out;
  }
  return { name: 'Error', message: String(error) };
}

function codeOf(e: unknown): string {
  return e instanceof DcpError ? String(e.code) : DcpErrorCode.ESANDBOX;
}
