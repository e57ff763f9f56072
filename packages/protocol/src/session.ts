import type { AckJournal } from './ack-journal';
import { type CryptoPort, getDefaultCrypto } from './crypto/port';
import { Emitter } from './emitter';
import type { Envelope } from './envelope';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';
import {
  connectDataSchema,
  type Generation,
  isCompatibleVersion,
  type MessageBody,
  PROTOCOL_VERSION,
  requestPayloadSchema,
  type Validity,
} from './messages';
import {
  type Clock,
  consoleLogger,
  cryptoRandom,
  defer,
  type Logger,
  type Random,
  systemClock,
  timer,
} from './ports';
import { Inbox } from './session-inbox';
import { Outbox } from './session-outbox';
import { QuietWait } from './session-quiet';
import { PendingRequests } from './session-requests';
import type {
  RequestOptions,
  SessionEvents,
  SessionOptions,
  SessionRole,
  SessionState,
} from './session-types';
import { asDcpError, notificationEntry, openEnvelope, requestEntry, responseEntry } from './session-wire';
import type { MessageLink } from './transport/frames';
import { defaultValidityOptions, StampCache, type ValidityOptions } from './validity';

export type {
  IncomingNotification,
  IncomingRequest,
  RequestOptions,
  SessionOptions,
  SessionRole,
  SessionState,
} from './session-types';
export { errorFromPayload } from './session-wire';

let sessionSeq = 0;
let tokenSeq = 0;

/**
 * One DCPv5 session, either role: connect/dcpsid negotiation, stop-and-wait acks with nonces (one
 * message on deck), batching, validity checks, keepalive, close and resume over a new link.
 *
 * Its parts: session-types.ts (options, requests, events), session-wire.ts (entries, network form,
 * envelope checks), session-outbox.ts (the sending queue, batching, the acks of our messages),
 * session-inbox.ts (received messages: our acks of them, the nonce chain, responses, requests and
 * notifications; session-incoming.ts builds the requests), session-requests.ts (our requests awaiting
 * a response), session-quiet.ts (close's wait for a quiet peer). This class is the state machine:
 * links, the connect handshake, close and finalization.
 */
export class DcpSession extends Emitter<SessionEvents> {
  readonly role: SessionRole;
  readonly identity: Identity;
  readonly crypto: CryptoPort;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly seq = ++sessionSeq;
  generation: Generation;
  state: SessionState = 'connecting';
  dcpsid: string | undefined;
  peerAddress: string | undefined;
  peerVersion: string | undefined;
  /** set once closed */
  closeError: DcpError | undefined;
  /** message counters (DcpMessages; a batch counts once in *Messages and once in *Batches) */
  readonly stats = { rxMessages: 0, rxBatches: 0, txMessages: 0, txBatches: 0, rxAcks: 0, txAcks: 0 };

  readonly #opts: Required<
    Pick<SessionOptions, 'closeTimeoutMs' | 'ttl' | 'closeQuietMs' | 'closeQuietMaxMs'>
  > & {
    validity: ValidityOptions;
  };
  readonly #stamps: StampCache;
  readonly #journal: AckJournal | undefined;
  readonly #outbox: Outbox;
  #link: MessageLink | null = null;
  #attachCount = 0;
  #msgSeq = 0;
  /** our requests waiting for their response (the connect request included) */
  readonly #pending = new PendingRequests();
  readonly #inbox: Inbox;
  #clockOffset: number | undefined;
  #sid: string | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closingError: DcpError | undefined;
  /** close(): armed while we wait for the peer to fall quiet; re-armed by every message it sends */
  #quiet: QuietWait | undefined;
  /** target: our clock minus the initiator's own clock, from its connect request */
  #peerClockOffset = 0;
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (e: DcpError) => void;

  constructor(options: SessionOptions) {
    super();
    this.role = options.role;
    this.identity = options.identity;
    this.crypto = options.crypto ?? options.identity.crypto ?? getDefaultCrypto();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom;
    this.logger = options.logger ?? consoleLogger;
    this.generation = options.generation ?? 5;
    this.#stamps = options.stampCache ?? new StampCache();
    this.#journal = options.ackJournal;
    this.#opts = {
      closeTimeoutMs: options.closeTimeoutMs ?? 7_000,
      closeQuietMs: options.closeQuietMs ?? (options.role === 'target' ? 250 : 0),
      closeQuietMaxMs: options.closeQuietMaxMs ?? 10_000,
      ttl: options.ttl ?? 120,
      validity: options.validity ?? defaultValidityOptions,
    };
    this.#outbox = new Outbox(this, {
      maxBatch: options.maxBatch ?? 200,
      maxRttMs: options.maxRttMs ?? 120_000,
      newId: () => this.#newId(),
      makeToken: (prefix) => this.#makeToken(prefix),
      fail: (error) => this.#sessionFailure(error),
    });
    this.#inbox = new Inbox({
      session: this,
      outbox: this.#outbox,
      pending: this.#pending,
      journal: this.#journal,
      stamps: this.#stamps,
      validity: this.#opts.validity,
      peerClockOffset: () => this.#peerClockOffset,
      makeToken: (prefix) => this.#makeToken(prefix),
      transmit: (sealed) => this.#transmit(sealed),
      adoptClock: (msg) => this.#adoptClock(msg),
      handleNoSession: (msg) => this.#handleNoSession(msg),
      respondGoodbyeAndClose: (id) => this.#respondGoodbyeAndClose(id),
      linkFailure: (error, link) => this.#linkFailure(error, link),
      sessionFailure: (error) => this.#sessionFailure(error),
      emitProtocolError: (error) => this.emit('protocolError', error),
      emitRequest: (request) => this.emit('request', request),
      emitNotification: (notification) => this.emit('notification', notification),
    });
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {});
  }

  /** Resolves once the session is established; rejects if it closes first. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Resolves when the session has closed. */
  get whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  get link(): MessageLink | null {
    return this.#link;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get isOpen(): boolean {
    return this.state !== 'closing' && this.state !== 'closed';
  }

  /** Seconds: our clock for targets; for initiators the target's clock learnt from response `time`. */
  currentTime(): number {
    const local = this.clock.now() / 1000;
    return this.#clockOffset === undefined ? local : local + this.#clockOffset;
  }

  // ---------------------------------------------------------------- links

  /** Use a (new) transport link: retransmit our last ack and anything never sent. */
  attach(link: MessageLink): void {
    if (this.state === 'closed') {
      link.close('session closed');
      return;
    }
    const old = this.#link;
    const resumed = this.#attachCount++ > 0;
    this.#link = link;
    if (old && old !== link && !old.closed) old.close('replaced');
    if (this.state === 'disconnected') this.state = 'established';
    if (this.#inbox.lastAck) link.send(this.#inbox.lastAck);
    this.#outbox.attached();
    this.emit('linkUp', resumed);
    // as dcp-client does: a keepalive behind whatever is queued tells a target that lost the session
    // (restarted) when our queue has drained, so its close rejects nothing of ours
    if (resumed && this.role === 'initiator' && this.dcpsid) this.keepalive().catch(() => {});
    this.#outbox.schedule();
  }

  /** The link went away (socket disconnect). */
  detach(link: MessageLink): void {
    if (link !== this.#link) return;
    this.#link = null;
    if (this.state === 'closed') return;
    if (!this.dcpsid || this.state === 'closing') {
      this.#finalize(this.#closingError ?? new DcpError(DcpErrorCode.EPIPE, 'transport closed'));
      return;
    }
    this.state = 'disconnected';
    this.emit('linkDown');
  }

  /** Drop the current transport without closing the session (tests; fault injection). */
  dropLink(reason = 'dropped'): void {
    this.#link?.close(reason);
  }

  // ---------------------------------------------------------------- sending API

  /** Initiator: start the session by queueing the connect request. */
  startConnect(): Promise<void> {
    if (this.role !== 'initiator') throw new Error('only initiators connect');
    if (this.#sid) return this.#ready;
    this.#sid = this.random.string(21);
    const entry = this.#makeRequestEntry('connect', { version: PROTOCOL_VERSION, sid: this.#sid });
    entry.isConnect = true;
    entry.noBatch = true;
    this.#pending.add(entry);
    this.#outbox.enqueue(entry);
    return this.#ready;
  }

  /** Send a request; resolves with the response payload, rejects with a DcpError. */
  request(operation: string, data?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(this.#closedError());
    const entry = this.#makeRequestEntry(operation, data, options);
    this.#pending.add(entry);
    this.#outbox.enqueue(entry);
    return entry.promise;
  }

  /** Send a notification (5.x peers only); resolves once acked. */
  notify(data: unknown, options: RequestOptions = {}): Promise<void> {
    if (this.generation < 5)
      return Promise.reject(new DcpError(DcpErrorCode.ENOTSUP, 'notifications are never sent to 4.x peers'));
    if (!this.isOpen) return Promise.reject(this.#closedError());
    const entry = notificationEntry(
      this.#newId(),
      data,
      this.#makeValidity(options.validity),
      options.authorize,
    );
    this.#outbox.enqueue(entry);
    return entry.promise.then(() => undefined);
  }

  keepalive(): Promise<unknown> {
    return this.request('keepalive', this.clock.now());
  }

  /**
   * Close gracefully: send `close` (data = code) and wait for 'goodbye' or the close timeout. Before
   * sending it, wait until nothing of ours is unacked and the peer fell quiet (closeQuietMs).
   */
  close(code: string = DcpErrorCode.EPIPE): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return this.#closedPromise;
    const error = new DcpError(code, 'connection closed');
    if (!this.dcpsid || !this.#link) {
      this.#finalize(error);
      return this.#closedPromise;
    }
    this.state = 'closing';
    this.#closingError = error;
    const send = () => {
      if (this.state !== 'closing' || this.#closeTimer) return; // closed, or the peer closed first
      const entry = this.#makeRequestEntry('close', code);
      entry.promise.then(
        () => this.#finalize(error),
        () => this.#finalize(error),
      );
      this.#pending.add(entry);
      this.#outbox.enqueue(entry);
      this.#closeTimer = timer(() => this.#finalize(error), this.#opts.closeTimeoutMs);
    };
    if (this.#opts.closeQuietMs > 0)
      this.#quiet = new QuietWait(
        this.#opts.closeQuietMs,
        this.#opts.closeQuietMaxMs,
        () => {
          this.#quiet = undefined;
          send();
        },
        () => this.#outbox.busy,
      );
    else send();
    return this.#closedPromise;
  }

  /** Close at once without telling the peer. */
  abort(error: DcpError = new DcpError(DcpErrorCode.EPIPE, 'connection aborted')): void {
    this.#finalize(error);
  }

  // ---------------------------------------------------------------- receiving

  /** Feed one sealed message from the link. Never throws. */
  receive(sealed: string, envelope?: Envelope, link: MessageLink | null = this.#link): void {
    if (this.state === 'closed') return;
    this.#quiet?.arm();
    let env: Envelope;
    try {
      env = openEnvelope(sealed, envelope, this.crypto, this.peerAddress);
      this.peerAddress ??= env.owner;
    } catch (error) {
      this.#linkFailure(asDcpError(error), link);
      return;
    }
    this.#inbox.receive(env.body, link);
  }

  #linkFailure(error: DcpError, link: MessageLink | null): void {
    this.logger.warn({ code: error.code, err: error.message, dcpsid: this.dcpsid }, 'refused DCP message');
    this.emit('protocolError', error);
    if (!this.dcpsid) {
      this.#finalize(error);
      return;
    }
    // keep the session for a legitimate resume; drop the transport the bad message came on
    link?.close(error.code);
  }

  #sessionFailure(error: DcpError): void {
    this.logger.warn({ code: error.code, err: error.message, dcpsid: this.dcpsid }, 'DCP session failure');
    this.emit('protocolError', error);
    this.#finalize(error);
  }

  #handleNoSession(msg: MessageBody): void {
    if (msg.type === 'request') {
      const payload = requestPayloadSchema.safeParse(msg.payload);
      const operation = payload.success ? payload.data.operation : undefined;
      if (operation === 'close') {
        this.#respondGoodbyeAndClose(msg.id);
        return;
      }
      if (operation !== 'connect' || this.role !== 'target' || this.#sid)
        throw new DcpError(DcpErrorCode.EINVAL, `received '${operation}' before the session was established`);
      const data = connectDataSchema.safeParse(payload.success ? payload.data.data : undefined);
      if (!data.success) throw new DcpError(DcpErrorCode.EINVAL, 'invalid connect request');
      this.#sid = data.data.sid;
      if (typeof msg.time === 'number') this.#peerClockOffset = this.currentTime() - msg.time;
      this.peerVersion = data.data.version;
      this.dcpsid = data.data.sid + this.random.string(21);
      const ok = isCompatibleVersion(this.peerVersion);
      const response = responseEntry(
        msg.id,
        ok
          ? { version: PROTOCOL_VERSION, operation: 'connect' }
          : { message: '^5.2.0', code: DcpErrorCode.EVERSION },
        ok,
      );
      response.noBatch = true;
      this.#outbox.unshift(response);
      if (!ok) {
        response.promise.then(
          () => this.#finalize(new DcpError(DcpErrorCode.EVERSION, `peer version ${this.peerVersion}`)),
          () => {},
        );
        this.state = 'closing';
        this.#outbox.schedule();
        return;
      }
      this.#establish();
      return;
    }
    if (msg.type === 'response' && this.role === 'initiator') {
      const entry = this.#pending.takeConnect(msg.id);
      if (!entry) throw new DcpError(DcpErrorCode.EINVAL, 'response before session establishment');
      this.#adoptClock(msg);
      const payload = (msg.payload ?? {}) as { version?: unknown; message?: unknown; code?: unknown };
      if (msg.success !== true) {
        const err = new DcpError(DcpErrorCode.EVERSION, `peer requires version ${String(payload.message)}`);
        entry.reject(err);
        this.#finalize(err);
        return;
      }
      if (typeof msg.dcpsid !== 'string' || !msg.dcpsid.startsWith(this.#sid ?? '\0'))
        throw new DcpError(DcpErrorCode.EINVAL, 'peer proposed an invalid dcpsid');
      if (!isCompatibleVersion(payload.version))
        throw new DcpError(DcpErrorCode.EVERSION, `peer version ${String(payload.version)} is not ^5.2.0`);
      this.peerVersion = payload.version as string;
      this.dcpsid = msg.dcpsid;
      entry.resolve(msg.payload);
      this.#establish();
      return;
    }
    throw new DcpError(DcpErrorCode.EINVAL, `'${msg.type}' message before the session was established`);
  }

  #establish(): void {
    this.state = 'established';
    this.#resolveReady();
    this.emit('established');
    this.#outbox.schedule();
  }

  #adoptClock(msg: MessageBody): void {
    if (this.role !== 'initiator') return;
    if (typeof msg.time !== 'number') throw new DcpError(DcpErrorCode.EINVAL, 'response without time');
    this.#clockOffset = msg.time - this.clock.now() / 1000;
  }

  #respondGoodbyeAndClose(id: string): void {
    const error = new DcpError(DcpErrorCode.ECONNRESET, 'connection closed by peer');
    this.#pending.rejectAll(error, true);
    const response = responseEntry(id, 'goodbye', true);
    // like DCP, do not wait for the ack of 'goodbye': the peer is going away
    response.onSent = () => defer(() => this.#finalize(error));
    if (this.state !== 'closing') this.state = 'closing';
    this.#closingError ??= error;
    this.#outbox.enqueue(response);
    if (!this.#closeTimer) this.#closeTimer = timer(() => this.#finalize(error), this.#opts.closeTimeoutMs);
  }

  #transmit(sealed: string): void {
    const link = this.#link;
    if (link && !link.closed) link.send(sealed);
  }

  // ---------------------------------------------------------------- helpers

  #newId(): string {
    return `${this.seq}-${++this.#msgSeq}-${this.random.string(21)}`;
  }

  #makeToken(prefix: 'AT' | 'NN'): string {
    return `${prefix}${this.role[0]}${++tokenSeq}-${this.random.string(21)}`;
  }

  #makeValidity(override?: Partial<Validity>): Validity {
    return {
      stamp: this.random.string(21),
      ttl: this.#opts.ttl,
      time: this.currentTime(),
      ...override,
    };
  }

  #makeRequestEntry(operation: string, data: unknown, options: RequestOptions = {}) {
    return requestEntry(
      this.#newId(),
      operation,
      data,
      this.#makeValidity(options.validity),
      options.authorize,
    );
  }

  #closedError(): DcpError {
    return new DcpError(this.closeError?.code ?? DcpErrorCode.EPIPE, 'connection is closed');
  }

  #finalize(error: DcpError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = error;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#quiet?.cancel();
    this.#quiet = undefined;
    const failed = new DcpError(error.code, error.message);
    this.#outbox.close(failed);
    this.#pending.rejectAll(failed);
    this.#rejectReady(failed);
    const link = this.#link;
    this.#link = null;
    if (link && !link.closed) {
      // let already-written frames (e.g. our goodbye) flush before the socket goes
      defer(() => link.close(error.code));
    }
    if (this.dcpsid) this.#journal?.forget(this.dcpsid);
    this.emit('closed', error);
    this.#resolveClosed();
    this.removeAllListeners();
  }
}
