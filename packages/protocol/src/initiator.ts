import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { CryptoPort } from './crypto/port';
import { Emitter } from './emitter';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';
import type { Generation } from './messages';
import { type Clock, consoleLogger, type Logger, type Random, systemClock, timer } from './ports';
import { DcpSession, type IncomingNotification, type IncomingRequest, type RequestOptions } from './session';
import { type FrameOptions, FramedLink } from './transport/frames';
import type { ValidityOptions } from './validity';

export interface InitiatorOptions {
  /** the service location, e.g. http://127.0.0.1:8080/job-submit/ */
  location: string | URL;
  /** our key: signs every envelope */
  identity: Identity;
  /** socket.io path style of the target: 5 → `<path>dcp5/socketio` (default), 4 → `<path>` */
  pathStyle?: Generation;
  crypto?: CryptoPort;
  /** the time messages are stamped and checked with (connect deadlines are real time) */
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** give up opening a transport after this long (default 30 s) */
  connectTimeoutMs?: number;
  /** give up resuming a dropped transport after this long (default 60 s) */
  reconnectTimeoutMs?: number;
  maxRttMs?: number;
  closeTimeoutMs?: number;
  validity?: ValidityOptions;
  frame?: Partial<FrameOptions>;
  /** extra socket.io-client options (transports, extraHeaders, …) */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

interface InitiatorEvents {
  /** the target pushed a request; answer it with respond()/fail() */
  request: (request: IncomingRequest) => void;
  notification: (notification: IncomingNotification) => void;
  /** a session was established (again) */
  session: (session: DcpSession) => void;
  linkDown: () => void;
  linkUp: () => void;
  protocolError: (error: DcpError) => void;
  /** a session ended; a later request opens a new one */
  sessionClosed: (error: DcpError) => void;
}

/**
 * The DCPv5 initiator (client) side over socket.io: opens a session on demand, resumes it when the
 * transport drops, and opens a new one when the target no longer knows it.
 */
export class DcpInitiator extends Emitter<InitiatorEvents> {
  readonly location: URL;
  readonly identity: Identity;
  readonly logger: Logger;
  readonly #options: InitiatorOptions;
  #session: DcpSession | undefined;
  #connecting: Promise<DcpSession> | undefined;
  #closed = false;

  constructor(options: InitiatorOptions) {
    super();
    this.#options = options;
    this.location = new URL(options.location);
    this.identity = options.identity;
    this.logger = options.logger ?? consoleLogger;
  }

  /** socket.io path used for the location */
  get socketPath(): string {
    return (this.#options.pathStyle ?? 5) === 5
      ? `${this.location.pathname}dcp5/socketio`
      : this.location.pathname;
  }

  /** the current session, if any */
  get session(): DcpSession | undefined {
    return this.#session;
  }

  /** The target's address, once known. */
  get peerAddress(): string | undefined {
    return this.#session?.peerAddress;
  }

  /** Open a session unless one is open; resolves once established. */
  async connect(): Promise<DcpSession> {
    if (this.#closed) throw new DcpError(DcpErrorCode.EPIPE, 'initiator is closed');
    if (this.#session?.isOpen && this.#session.dcpsid) return this.#session;
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Send a request (connecting first if needed); resolves with the payload, rejects with a DcpError. */
  async request(operation: string, data?: unknown, options?: RequestOptions): Promise<unknown> {
    const session = await this.connect();
    return session.request(operation, data, options);
  }

  async notify(data: unknown, options?: RequestOptions): Promise<void> {
    const session = await this.connect();
    return session.notify(data, options);
  }

  async keepalive(): Promise<void> {
    const session = await this.connect();
    await session.keepalive();
  }

  /** Cut the transport without closing the session (fault injection); it resumes on a new one. */
  dropTransport(): void {
    this.#session?.dropLink('dropped by API');
  }

  /** Close the session gracefully and stop. */
  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    if (s) await s.close();
  }

  async #open(): Promise<DcpSession> {
    const o = this.#options;
    const session = new DcpSession({
      role: 'initiator',
      identity: this.identity,
      crypto: o.crypto,
      clock: o.clock,
      random: o.random,
      logger: this.logger,
      maxRttMs: o.maxRttMs,
      closeTimeoutMs: o.closeTimeoutMs,
      validity: o.validity,
    });
    this.#session = session;
    session.on('request', (req) => {
      if (this.listenerCount('request') === 0)
        req.fail(new DcpError(DcpErrorCode.ENOTSUP, `operation '${req.operation}' is not supported`));
      else this.emit('request', req);
    });
    session.on('notification', (n) => this.emit('notification', n));
    session.on('protocolError', (e) => this.emit('protocolError', e));
    session.on('linkUp', () => this.emit('linkUp'));
    session.on('linkDown', () => {
      this.emit('linkDown');
      void this.#resume(session);
    });
    session.on('closed', (error) => {
      if (this.#session === session) this.emit('sessionClosed', error);
    });
    const deadline = transportNow() + (o.connectTimeoutMs ?? 30_000);
    await this.#openLink(session, deadline);
    await Promise.race([
      session.startConnect(),
      new Promise<never>((_, reject) =>
        timer(
          () => reject(new DcpError(DcpErrorCode.ETIMEDOUT, `no session with ${this.location.href} in time`)),
          Math.max(0, deadline - transportNow()),
        ),
      ),
    ]).catch((error: unknown) => {
      session.abort(error instanceof DcpError ? error : new DcpError(DcpErrorCode.EPIPE, String(error)));
      throw error;
    });
    this.emit('session', session);
    return session;
  }

  async #resume(session: DcpSession): Promise<void> {
    if (!session.isOpen) return;
    try {
      await this.#openLink(session, transportNow() + (this.#options.reconnectTimeoutMs ?? 60_000));
    } catch (error) {
      session.abort(error instanceof DcpError ? error : new DcpError(DcpErrorCode.ETIMEDOUT, String(error)));
    }
  }

  /** Connect a socket (retrying with backoff until the deadline) and attach it to the session. */
  async #openLink(session: DcpSession, deadline: number): Promise<void> {
    let delay = 50;
    let lastError: unknown;
    while (!session.isClosed && transportNow() < deadline) {
      try {
        const socket = await this.#connectSocket(Math.max(100, deadline - transportNow()));
        if (session.isClosed) {
          socket.disconnect();
          return;
        }
        const link = new FramedLink(socket, this.#options.frame);
        link.announce();
        link.on('message', (m) => session.receive(m, undefined, link));
        link.on('error', (e) => this.emit('protocolError', e));
        link.on('close', () => session.detach(link));
        session.attach(link);
        return;
      } catch (error) {
        lastError = error;
        await new Promise((r) => timer(() => r(undefined), delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
    if (session.isClosed) return;
    throw new DcpError(
      DcpErrorCode.ETIMEDOUT,
      `could not connect to ${this.location.href}: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    );
  }

  #connectSocket(timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = io(this.location.origin, {
        path: this.socketPath,
        transports: ['websocket', 'polling'],
        forceNew: true,
        multiplex: false,
        reconnection: false,
        timeout: Math.min(timeoutMs, 20_000),
        ...this.#options.socketOptions,
      });
      const cleanup = () => {
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
      };
      const onConnect = () => {
        cleanup();
        resolve(socket);
      };
      const onError = (error: Error) => {
        cleanup();
        socket.disconnect();
        reject(error);
      };
      socket.on('connect', onConnect);
      socket.on('connect_error', onError);
    });
  }
}

/**
 * Connect and reconnect deadlines are transport time: real time always, whatever `clock` (the time
 * the session stamps and checks messages with) says.
 */
function transportNow(): number {
  return systemClock.now();
}
