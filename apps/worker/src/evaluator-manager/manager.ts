import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ActivityMonitor } from './activity';

export interface EvaluatorManagerOptions {
  /** where workers connect (one connection = one sandbox, as with the evaluator itself) */
  listenHost: string;
  listenPort: number;
  /** the evaluator the connections are handed to */
  evaluatorHost: string;
  evaluatorPort: number;
  /** how often the monitors are checked */
  pollMs: number;
  /** minimum time between two accepted connections (dcp-evaluator-manager's --rate); 0 = none */
  rateMs: number;
  /** close running sandboxes when the machine becomes busy (as dcp-evaluator-manager does) */
  killOnBusy: boolean;
}

interface ManagerEvents {
  busy: [reason: string];
  idle: [];
  refused: [reason: string];
  accepted: [];
}

/**
 * An inetd-like guard in front of an evaluator, in the manner of dcp-worker's dcp-evaluator-manager:
 * it listens where workers expect their evaluator and, for each connection (a sandbox), either
 * refuses it — the machine is busy (a terminal in use, load above the limit, paused by signal) — or
 * joins it to a connection to the real evaluator. When the machine becomes busy, running sandboxes
 * are closed, so work stops at once; the worker keeps running and carries on once it is idle again.
 */
export class EvaluatorManager extends EventEmitter<ManagerEvents> {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #poll: ReturnType<typeof setInterval> | undefined;
  #busy = '';
  #lastAccepted = 0;
  port = 0;

  constructor(
    readonly options: EvaluatorManagerOptions,
    readonly monitor: ActivityMonitor,
  ) {
    super();
    this.#server = createServer((socket) => this.#onConnection(socket));
  }

  /** Why the machine is busy now ("" when free). */
  get busy(): string {
    return this.#busy;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async start(): Promise<void> {
    this.#update();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.options.listenPort, this.options.listenHost, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : this.options.listenPort;
    this.#poll = setInterval(() => this.#update(), this.options.pollMs);
  }

  /** Check the monitors now (also called on the toggle signal). */
  update(): void {
    this.#update();
  }

  #update(): void {
    let reason: string;
    try {
      reason = this.monitor.check();
    } catch (e) {
      reason = `monitor failed: ${(e as Error).message}`;
    }
    const was = this.#busy;
    this.#busy = reason;
    if (reason && !was) this.emit('busy', reason);
    if (!reason && was) this.emit('idle');
    if (reason && this.options.killOnBusy) this.closeAll();
  }

  /** Close every running sandbox (their workers return the slices). */
  closeAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  #onConnection(socket: Socket): void {
    socket.on('error', () => {});
    if (this.#busy) {
      this.emit('refused', this.#busy);
      socket.destroy();
      return;
    }
    const now = Date.now();
    if (this.options.rateMs > 0 && now - this.#lastAccepted < this.options.rateMs) {
      this.emit('refused', `rate limit: one sandbox per ${this.options.rateMs} ms`);
      socket.destroy();
      return;
    }
    this.#lastAccepted = now;
    socket.pause();
    const upstream = connect({ host: this.options.evaluatorHost, port: this.options.evaluatorPort });
    const pair: [Socket, Socket] = [socket, upstream];
    this.#pairs.add(pair);
    const close = () => {
      this.#pairs.delete(pair);
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', (e) => {
      this.emit(
        'refused',
        `evaluator at ${this.options.evaluatorHost}:${this.options.evaluatorPort}: ${e.message}`,
      );
      close();
    });
    upstream.on('close', close);
    socket.on('close', close);
    upstream.once('connect', () => {
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
      this.emit('accepted');
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#poll);
    this.closeAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
