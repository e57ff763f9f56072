import type { Socket } from 'node:net';
import { DcpErrorCode } from '@dcp-emu/protocol';
import type { Logger } from '@dcp-emu/service-kit';
import { kvinVersionOf } from './kvin';
import { dieLine, LineReader, LineTooLongError, parseLine, resultLine } from './line-protocol';
import { Sandbox, type SandboxExit, type SandboxLimits } from './sandbox';

export interface SessionOptions {
  limits: SandboxLimits;
  maxLineBytes: number;
  /** Bytes the socket may hold unsent before the sandbox is killed (a flooding work function). */
  maxOutputBacklogBytes: number;
  logger: Logger;
}

/**
 * One TCP connection = one sandbox (dcp-worker-protocol.md §5.1). Reads the supervisor's lines,
 * hands `workerMessage`s to the sandbox in order, answers `die` at once (even while the sandbox
 * is busy), and closes the socket when the sandbox ends.
 */
export class Session {
  private sandbox: Sandbox | undefined;
  private readonly pending: Array<Record<string, unknown>> = [];
  private readonly reader: LineReader;
  private ended = false;
  private corked = false;
  private exitInfo: SandboxExit | undefined;
  readonly done: Promise<SandboxExit>;
  private resolveDone!: (exit: SandboxExit) => void;

  constructor(
    private readonly socket: Socket,
    private readonly options: SessionOptions,
  ) {
    this.reader = new LineReader(options.maxLineBytes);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => this.end({ code: null, message: 'socket error' }));
    socket.on('close', () => this.end({ code: null, message: 'connection closed by the supervisor' }));
  }

  /** Starts the sandbox; lines that arrived meanwhile are dispatched afterwards, in order. */
  async start(): Promise<void> {
    let sandbox: Sandbox;
    try {
      sandbox = await Sandbox.create(this.options.limits, {
        line: (_kind, line) => this.write(line),
        exit: (exit) => this.end(exit),
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.options.logger.error({ err: message }, 'sandbox start failed');
      this.write(dieLine(`${DcpErrorCode.ESANDBOX}: sandbox start failed: ${message}`));
      this.end({ code: DcpErrorCode.ESANDBOX, message });
      return;
    }
    if (this.ended) {
      sandbox.close('connection closed before the sandbox was ready');
      return;
    }
    this.sandbox = sandbox;
    for (const message of this.pending.splice(0)) this.dispatch(message);
  }

  /** The sandbox, once started (the manager reads heap sizes and runs the watchdog through it). */
  get current(): Sandbox | undefined {
    return this.sandbox;
  }

  /** Kills the sandbox with a DCP reason (load shedding, shutdown). */
  kill(code: DcpErrorCode | null, message: string): void {
    if (this.sandbox && !this.sandbox.closed) this.sandbox.kill(code, message);
    else {
      this.write(dieLine(code ? `${code}: ${message}` : message));
      this.end({ code, message });
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    const sandbox = this.sandbox;
    if (!sandbox) {
      this.pending.push(message);
      return;
    }
    const version = kvinVersionOf(message);
    if (version) sandbox.peerKvin = version;
    void sandbox.dispatch(message);
  }

  private onData(data: Buffer): void {
    if (this.ended) return;
    let lines: string[];
    try {
      lines = this.reader.push(data);
    } catch (e) {
      if (e instanceof LineTooLongError) {
        this.write(resultLine(false, undefined, { name: e.name, message: e.message }));
        this.kill(DcpErrorCode.ETOOBIG, e.message);
        return;
      }
      throw e;
    }
    for (const line of lines) {
      if (this.ended) return;
      const parsed = parseLine(line);
      if (!parsed.ok) {
        this.write(resultLine(false, parsed.origin, parsed.error));
        continue;
      }
      const env = parsed.envelope;
      switch (env.type) {
        case 'workerMessage':
          this.dispatch(env.message);
          break;
        case 'die':
          this.write(dieLine(new Date().toString()));
          if (this.sandbox) this.sandbox.close('die requested');
          this.end({ code: null, message: 'die requested' });
          return;
        case 'newSerializer':
          /* Evaluating supervisor-supplied serializer code in the host would be an escape hatch. */
          this.write(
            resultLine(false, 'newSerializer', { name: 'Error', message: 'newSerializer is not supported' }),
          );
          break;
      }
    }
  }

  private write(line: string): void {
    if (this.ended || this.socket.destroyed || !this.socket.writable) return;
    // the lines of one turn (a slice's progress, measurement and result arrive together) leave in one
    // write: a syscall and a wake-up of the supervisor per turn, not per line
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(`${line}\n`);
    if (
      this.socket.writableLength > this.options.maxOutputBacklogBytes &&
      this.sandbox &&
      !this.sandbox.closed
    ) {
      this.sandbox.kill(
        DcpErrorCode.ENOMEM,
        `sandbox output backlog above ${this.options.maxOutputBacklogBytes} bytes (supervisor not reading)`,
      );
    }
  }

  private end(exit: SandboxExit): void {
    if (this.ended) return;
    this.ended = true;
    this.exitInfo = exit;
    if (this.sandbox && !this.sandbox.closed) this.sandbox.close(exit.message);
    if (!this.socket.destroyed) this.socket.end();
    this.resolveDone(exit);
  }

  get exit(): SandboxExit | undefined {
    return this.exitInfo;
  }
}
