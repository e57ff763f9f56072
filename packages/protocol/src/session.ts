import type { AckJournal } from './ack-journal';
import { authorizedResources } from './auth';
import { type CryptoPort, getDefaultCrypto, isAddress, sameAddress } from './crypto/port';
import { Emitter } from './emitter';
import { parseEnvelope, seal, verifyEnvelope, type Envelope } from './envelope';
import { DcpError, DcpErrorCode, type ErrorPayload } from './errors';
import type { Identity } from './identity';
import {
  type AckBody,
  ackBodySchema,
  connectDataSchema,
  type Generation,
  isCompatibleVersion,
  type MessageBody,
  messageBodySchema,
  notificationPayloadSchema,
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
import type { MessageLink } from './transport/frames';
import { defaultValidityOptions, StampCache, type ValidityOptions, validityError } from './validity';

export type SessionRole = 'initiator' | 'target';
export type SessionState = 'connecting' | 'established' | 'disconnected' | 'closing' | 'closed';

export interface SessionOptions {
  role: SessionRole;
  /** our key: signs every envelope and ack */
  identity: Identity;
  crypto?: CryptoPort;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** the peer's dcp-client generation; notifications are never sent to 4 */
  generation?: Generation;
  validity?: ValidityOptions;
  /** replay cache; share one per target */
  stampCache?: StampCache;
  /**
   * most messages per batch (default 200). dcp-client sends at most 20 (its `maxMessagesPerBatch`) but
   * takes batches of any length; every batch costs one signature, one recovery and one ack each way,
   * whatever its length, so under load longer batches mean fewer envelopes per slice.
   */
  maxBatch?: number;
  /** initiator: recycle the transport when an ack takes longer (DCP: 120 s) */
  maxRttMs?: number;
  /** how long close() waits for the peer's 'goodbye' */
  closeTimeoutMs?: number;
  /**
   * close(): before sending `close`, wait until nothing of ours is unacked and no message from the peer
   * arrived for this long (default: 250 ms for targets, 0 for initiators). dcp-client rejects the
   * responses still in its queue when a close arrives, and its event subscriber does not catch that.
   */
  closeQuietMs?: number;
  /** upper bound of that wait (default 10 s) */
  closeQuietMaxMs?: number;
  /** targets: where the token of each ack is recorded before it is sent (see AckJournal) */
  ackJournal?: AckJournal;
  /** default ttl (seconds) of our requests' validity stamps */
  ttl?: number;
  /** extra label for logs */
  label?: string;
}

export interface RequestOptions {
  /** resource keys authorizing this request: adds `allow` entries and `auth` signatures */
  authorize?: Identity[];
  /** override validity fields (tests, replays) */
  validity?: Partial<Validity>;
}

/** A request received from the peer; answer it exactly once with respond() or fail(). */
export interface IncomingRequest {
  readonly id: string;
  readonly operation: string;
  readonly data: unknown;
  /** payload exactly as it arrived (before any jsonData → data rewrite) */
  readonly rawPayload: unknown;
  /** the request's `auth` map as it arrived (resource → signature), for forwarding to a guardian */
  readonly auth?: Record<string, unknown>;
  /** lower-case resource addresses whose allow/auth authorization verified */
  readonly authorized: readonly string[];
  readonly session: DcpSession;
  readonly answered: boolean;
  respond(payload: unknown): void;
  /** DcpError → its code and message; anything else → EINTERNAL (logged) */
  fail(error: unknown): void;
}

export interface IncomingNotification {
  readonly data: unknown;
  readonly rawPayload: unknown;
  readonly authorized: readonly string[];
  readonly session: DcpSession;
}

interface SessionEvents {
  established: () => void;
  request: (request: IncomingRequest) => void;
  notification: (notification: IncomingNotification) => void;
  /** the transport went away; the session may resume on a new one */
  linkDown: () => void;
  /** a link is attached; `resumed` when it replaces a dropped one */
  linkUp: (resumed: boolean) => void;
  /** a message was refused at the protocol level (bad signature, malformed, …) */
  protocolError: (error: DcpError) => void;
  closed: (error: DcpError) => void;
}

type EntryKind = 'request' | 'response' | 'notification';

interface OutEntry {
  kind: EntryKind;
  id: string;
  payload: unknown;
  success?: boolean;
  authorize?: Identity[];
  noBatch?: boolean;
  isConnect?: boolean;
  /** called once the message has been written to a link */
  onSent?: () => void;
  /** request: settled by the response; response/notification: settled by the ack */
  resolve: (payload: unknown) => void;
  reject: (error: DcpError) => void;
}

interface OnDeck {
  ackToken: string;
  sealed: string;
  entries: OutEntry[];
  link: MessageLink | null;
  rttTimer?: ReturnType<typeof setTimeout>;
}

let sessionSeq = 0;
let tokenSeq = 0;

/** An ErrorPayload from the wire → DcpError carrying the code, message and origin. */
export function errorFromPayload(payload: unknown): DcpError {
  const p = (payload && typeof payload === 'object' ? payload : {}) as Partial<ErrorPayload>;
  const { name: _n, message, code, stack: _s, ...rest } = p;
  const err = new DcpError(
    typeof code === 'string' ? code : DcpErrorCode.EINTERNAL,
    typeof message === 'string' ? message : 'request failed',
    rest,
  );
  return err;
}

/**
 * One DCPv5 session, either role: connect/dcpsid negotiation, stop-and-wait acks with nonces (one
 * message on deck), batching, validity checks, keepalive, close and resume over a new link.
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
    Pick<
      SessionOptions,
      'maxBatch' | 'maxRttMs' | 'closeTimeoutMs' | 'ttl' | 'closeQuietMs' | 'closeQuietMaxMs'
    >
  > & {
    validity: ValidityOptions;
  };
  readonly #stamps: StampCache;
  readonly #journal: AckJournal | undefined;
  #link: MessageLink | null = null;
  #attachCount = 0;
  #msgSeq = 0;
  #txQueue: OutEntry[] = [];
  #onDeck: OnDeck | null = null;
  #serviceScheduled = false;
  readonly #pending = new Map<string, OutEntry>();
  #lastRxMessageId: string | null = null;
  #lastTxAckSealed: string | null = null;
  #lastTxNonce: string | null = null;
  /** null: nothing received yet (first message carries nonce null); false: consumed */
  #lastRxNonce: string | null | false = null;
  #lastRxAckToken: string | null = null;
  #clockOffset: number | undefined;
  #sid: string | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closingError: DcpError | undefined;
  /** close(): armed while we wait for the peer to fall quiet; re-armed by every message it sends */
  #quiet:
    | { timer?: ReturnType<typeof setTimeout>; max: ReturnType<typeof setTimeout>; go: () => void }
    | undefined;
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
      maxBatch: options.maxBatch ?? 200,
      maxRttMs: options.maxRttMs ?? 120_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 7_000,
      closeQuietMs: options.closeQuietMs ?? (options.role === 'target' ? 250 : 0),
      closeQuietMaxMs: options.closeQuietMaxMs ?? 10_000,
      ttl: options.ttl ?? 120,
      validity: options.validity ?? defaultValidityOptions,
    };
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
    if (this.#lastTxAckSealed) link.send(this.#lastTxAckSealed);
    const deck = this.#onDeck;
    if (deck && (deck.link === null || !this.dcpsid)) {
      deck.link = null;
      this.#transmitOnDeck();
    }
    this.emit('linkUp', resumed);
    // as dcp-client does: a keepalive behind whatever is queued tells a target that lost the session
    // (restarted) when our queue has drained, so its close rejects nothing of ours
    if (resumed && this.role === 'initiator' && this.dcpsid) this.keepalive().catch(() => {});
    this.#scheduleService();
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
    this.#pending.set(entry.id, entry);
    this.#txQueue.push(entry);
    this.#scheduleService();
    return this.#ready;
  }

  /** Send a request; resolves with the response payload, rejects with a DcpError. */
  request(operation: string, data?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(this.#closedError());
    const entry = this.#makeRequestEntry(operation, data, options);
    this.#pending.set(entry.id, entry);
    this.#enqueue(entry);
    return entry.promise;
  }

  /** Send a notification (5.x peers only); resolves once acked. */
  notify(data: unknown, options: RequestOptions = {}): Promise<void> {
    if (this.generation < 5)
      return Promise.reject(new DcpError(DcpErrorCode.ENOTSUP, 'notifications are never sent to 4.x peers'));
    if (!this.isOpen) return Promise.reject(this.#closedError());
    let resolve!: (v: unknown) => void;
    let reject!: (e: DcpError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#enqueue({
      kind: 'notification',
      id: this.#newId(),
      payload: { data, allow: [], validity: this.#makeValidity(options.validity) },
      authorize: options.authorize,
      resolve,
      reject,
    });
    return promise.then(() => undefined);
  }

  keepalive(): Promise<unknown> {
    return this.request('keepalive', this.clock.now());
  }

  /** Close gracefully: send `close` (data = code) and wait for 'goodbye' or the close timeout. */
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
      this.#pending.set(entry.id, entry);
      this.#txQueue.push(entry);
      this.#closeTimer = timer(() => this.#finalize(error), this.#opts.closeTimeoutMs);
      this.#scheduleService();
    };
    if (this.#opts.closeQuietMs > 0) this.#whenQuiet(send);
    else send();
    return this.#closedPromise;
  }

  /**
   * Run `go` once the peer has drained its queue as far as we can tell: nothing of ours is on deck or
   * queued (so the peer owes us no ack) and no message from it arrived for closeQuietMs; at the latest
   * after closeQuietMaxMs.
   */
  #whenQuiet(go: () => void): void {
    let done = false;
    const fire = () => {
      if (done) return;
      done = true;
      const q = this.#quiet;
      this.#quiet = undefined;
      if (q?.timer) clearTimeout(q.timer);
      if (q) clearTimeout(q.max);
      go();
    };
    this.#quiet = { max: timer(fire, this.#opts.closeQuietMaxMs), go: fire };
    this.#armQuiet();
  }

  /** (Re)start the quiet timer of a pending close; called on close() and on every message received. */
  #armQuiet(): void {
    const q = this.#quiet;
    if (!q) return;
    if (q.timer) clearTimeout(q.timer);
    q.timer = timer(() => {
      q.timer = undefined;
      // our own messages still in flight: their acks (which re-arm this timer) are still to come
      if (this.#onDeck || this.#txQueue.length) return;
      q.go();
    }, this.#opts.closeQuietMs);
  }

  /** Close at once without telling the peer. */
  abort(error: DcpError = new DcpError(DcpErrorCode.EPIPE, 'connection aborted')): void {
    this.#finalize(error);
  }

  // ---------------------------------------------------------------- receiving

  /** Feed one sealed message from the link. Never throws. */
  receive(sealed: string, envelope?: Envelope, link: MessageLink | null = this.#link): void {
    if (this.state === 'closed') return;
    this.#armQuiet();
    let env: Envelope;
    try {
      env = envelope ?? parseEnvelope(sealed);
      if (!this.peerAddress) {
        if (!isAddress(this.crypto, env.owner))
          throw new DcpError(DcpErrorCode.EBADSIG, 'invalid owner address');
        verifyEnvelope(env, this.crypto);
        this.peerAddress = env.owner;
      } else {
        if (!sameAddress(env.owner, this.peerAddress))
          throw new DcpError(DcpErrorCode.EBADSIG, `owner changed from ${this.peerAddress} to ${env.owner}`);
        verifyEnvelope(env, this.crypto);
      }
    } catch (error) {
      this.#linkFailure(asDcpError(error), link);
      return;
    }
    const body = env.body;
    if (body.type === 'ack') {
      const ack = ackBodySchema.safeParse(body);
      if (!ack.success) {
        this.#linkFailure(new DcpError(DcpErrorCode.EINVAL, 'malformed ack'), link);
        return;
      }
      this.stats.rxAcks++;
      this.#handleAck(ack.data);
      return;
    }
    const parsed = messageBodySchema.safeParse(body);
    if (!parsed.success) {
      this.#linkFailure(new DcpError(DcpErrorCode.EINVAL, 'malformed message body'), link);
      return;
    }
    const msg = parsed.data;
    if (this.#lastRxMessageId === msg.id) {
      if (this.#lastTxAckSealed) this.#transmit(this.#lastTxAckSealed);
      return;
    }
    this.#lastRxMessageId = msg.id;
    this.stats.rxMessages++;
    if (msg.type === 'batch') this.stats.rxBatches++;
    const expectedNonce = this.#lastTxNonce;
    this.#sendAck(msg);
    try {
      if (this.dcpsid && msg.dcpsid !== this.dcpsid)
        throw new DcpError(DcpErrorCode.EINVAL, 'message has incorrect dcpsid');
      if (!this.dcpsid) {
        this.#handleNoSession(msg);
        return;
      }
      if (!msg.nonce || msg.nonce !== expectedNonce)
        throw new DcpError(DcpErrorCode.EINVAL, `nonce mismatch (got ${msg.nonce}, want ${expectedNonce})`);
      this.#handleBody(msg, false);
    } catch (error) {
      this.#sessionFailure(asDcpError(error));
    }
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

  #sendAck(msg: MessageBody): void {
    const nonce = this.#makeToken('NN');
    // Include the dcpsid even in the ack of the connect response so that this ack can resume the session.
    const dcpsid =
      this.dcpsid ?? (this.role === 'initiator' && msg.type === 'response' ? msg.dcpsid : undefined);
    const ack: AckBody = { type: 'ack', dcpsid, token: msg.ackToken as string, nonce, messageId: msg.id };
    const sealed = seal(this.identity, ack);
    if (dcpsid && this.#journal && typeof msg.ackToken === 'string')
      this.#journal.record(dcpsid, msg.ackToken);
    this.#transmit(sealed);
    this.#lastTxNonce = nonce;
    this.#lastTxAckSealed = sealed;
    this.stats.txAcks++;
  }

  #handleAck(ack: AckBody): void {
    const deck = this.#onDeck;
    if (deck && ack.token === deck.ackToken) {
      this.#lastRxAckToken = ack.token;
      this.#lastRxNonce = ack.nonce;
      if (deck.rttTimer) clearTimeout(deck.rttTimer);
      this.#onDeck = null;
      for (const entry of deck.entries) if (entry.kind !== 'request') entry.resolve(undefined);
      this.#scheduleService();
      return;
    }
    if (ack.token === this.#lastRxAckToken) {
      // duplicate ack (the peer resumed): retransmit what is on deck if it went out on an old link
      if (deck && deck.link !== this.#link) {
        deck.link = null;
        this.#transmitOnDeck();
      }
      return;
    }
    this.#sessionFailure(new DcpError(DcpErrorCode.EINVAL, `unsolicited ack ${ack.token}`));
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
      const response = this.#makeResponseEntry(
        msg.id,
        ok
          ? { version: PROTOCOL_VERSION, operation: 'connect' }
          : { message: '^5.2.0', code: DcpErrorCode.EVERSION },
        ok,
      );
      response.noBatch = true;
      this.#txQueue.unshift(response);
      if (!ok) {
        response.promise.then(
          () => this.#finalize(new DcpError(DcpErrorCode.EVERSION, `peer version ${this.peerVersion}`)),
          () => {},
        );
        this.state = 'closing';
        this.#scheduleService();
        return;
      }
      this.#establish();
      return;
    }
    if (msg.type === 'response' && this.role === 'initiator') {
      const entry = this.#pending.get(msg.id);
      if (!entry?.isConnect) throw new DcpError(DcpErrorCode.EINVAL, 'response before session establishment');
      this.#pending.delete(msg.id);
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
    this.#scheduleService();
  }

  #adoptClock(msg: MessageBody): void {
    if (this.role !== 'initiator') return;
    if (typeof msg.time !== 'number') throw new DcpError(DcpErrorCode.EINVAL, 'response without time');
    this.#clockOffset = msg.time - this.clock.now() / 1000;
  }

  #handleBody(msg: MessageBody, inner: boolean): void {
    switch (msg.type) {
      case 'request':
        this.#handleRequest(msg);
        return;
      case 'response': {
        this.#adoptClock(msg);
        const entry = this.#pending.get(msg.id);
        if (!entry || entry.isConnect)
          throw new DcpError(DcpErrorCode.EINVAL, `received response for unknown message ${msg.id}`);
        this.#pending.delete(msg.id);
        const payload = decodeJsonData(msg.payload);
        if (msg.success === true) entry.resolve(payload);
        else if (msg.success === false) entry.reject(errorFromPayload(payload));
        else throw new DcpError(DcpErrorCode.EINVAL, 'malformed response');
        return;
      }
      case 'batch': {
        if (inner) throw new DcpError(DcpErrorCode.EINVAL, 'batch messages may not contain batch messages');
        if (!Array.isArray(msg.payload)) throw new DcpError(DcpErrorCode.EINVAL, 'malformed batch');
        for (const raw of msg.payload) {
          const innerMsg = messageBodySchema.safeParse(raw);
          if (!innerMsg.success) throw new DcpError(DcpErrorCode.EINVAL, 'malformed message in batch');
          this.#handleBody(innerMsg.data, true);
        }
        return;
      }
      case 'notification': {
        const payload = notificationPayloadSchema.safeParse(msg.payload);
        if (!payload.success) throw new DcpError(DcpErrorCode.EINVAL, 'malformed notification');
        if (this.state !== 'established') return;
        const rawPayload = msg.payload;
        const err = this.#validityError(payload.data.validity);
        if (err) {
          this.emit('protocolError', err);
          return;
        }
        const data = decodeJsonData(rawPayload) as { data?: unknown };
        this.emit('notification', {
          data: data.data,
          rawPayload,
          authorized: this.#authorized(rawPayload, msg.auth),
          session: this,
        });
        return;
      }
    }
  }

  /**
   * Validity against our clock; failing that (time checks only), against the initiator's own clock:
   * requests it queued before it learnt our clock from the connect response carry its local time.
   */
  #validityError(validity: unknown): DcpError | null {
    const now = this.currentTime();
    const err = validityError(validity, now, this.#stamps, this.#opts.validity);
    if (!err || Math.abs(this.#peerClockOffset) < 1) return err;
    if (err.code !== DcpErrorCode.EEXPIRED && err.code !== DcpErrorCode.ETIMETRAVEL) return err;
    return validityError(validity, now - this.#peerClockOffset, this.#stamps, this.#opts.validity);
  }

  #authorized(rawPayload: unknown, auth: Record<string, unknown> | undefined): string[] {
    if (!this.peerAddress) return [];
    return authorizedResources(this.crypto, rawPayload, auth, this.identity.address, this.peerAddress);
  }

  #handleRequest(msg: MessageBody): void {
    const rawPayload = msg.payload;
    const parsed = requestPayloadSchema.safeParse(rawPayload);
    if (!parsed.success) {
      this.#respondError(msg.id, new DcpError(DcpErrorCode.EINVAL, 'malformed request payload'));
      return;
    }
    const operation = parsed.data.operation;
    let data: unknown = parsed.data.data;
    if (typeof parsed.data.jsonData === 'string' && parsed.data.jsonData) {
      try {
        data = JSON.parse(parsed.data.jsonData);
      } catch {
        this.#respondError(msg.id, new DcpError(DcpErrorCode.EINVAL, 'malformed message payload.jsonData'));
        return;
      }
    }
    switch (operation) {
      case 'connect':
        throw new DcpError(DcpErrorCode.EINVAL, 'unexpected connect request');
      case 'keepalive':
        this.#enqueue(this.#makeResponseEntry(msg.id, { success: true }, true));
        return;
      case 'close':
        this.#respondGoodbyeAndClose(msg.id);
        return;
    }
    if (this.state !== 'established') return; // closing: no new work
    const err = this.#validityError(parsed.data.validity);
    if (err) {
      this.emit('protocolError', err);
      this.#respondError(msg.id, err);
      return;
    }
    const authorized = this.#authorized(rawPayload, msg.auth);
    let answered = false;
    const answer = (payload: unknown, success: boolean) => {
      if (answered) return;
      answered = true;
      if (this.state === 'closed') return; // while closing, answers still go out before the close
      this.#enqueue(this.#makeResponseEntry(msg.id, payload, success));
    };
    const request: IncomingRequest = {
      id: msg.id,
      operation,
      data,
      rawPayload,
      ...(msg.auth ? { auth: msg.auth } : {}),
      authorized,
      session: this,
      get answered() {
        return answered;
      },
      respond: (payload) => answer(payload, true),
      fail: (error) => {
        if (!(error instanceof DcpError))
          this.logger.error({ err: error, operation }, 'DCP request handler failed');
        answer(DcpError.payloadOf(error, this.identity.address), false);
      },
    };
    if (this.listenerCount('request') === 0) {
      request.fail(new DcpError(DcpErrorCode.ENOTSUP, `operation '${operation}' is not supported`));
      return;
    }
    this.emit('request', request);
  }

  #respondError(id: string, error: DcpError): void {
    this.#enqueue(this.#makeResponseEntry(id, error.toPayload(this.identity.address), false));
  }

  #respondGoodbyeAndClose(id: string): void {
    const error = new DcpError(DcpErrorCode.ECONNRESET, 'connection closed by peer');
    for (const [key, entry] of this.#pending) {
      if (entry.isConnect) continue;
      this.#pending.delete(key);
      entry.reject(error);
    }
    const response = this.#makeResponseEntry(id, 'goodbye', true);
    // like DCP, do not wait for the ack of 'goodbye': the peer is going away
    response.onSent = () => defer(() => this.#finalize(error));
    if (this.state !== 'closing') this.state = 'closing';
    this.#closingError ??= error;
    this.#txQueue.push(response);
    if (!this.#closeTimer) this.#closeTimer = timer(() => this.#finalize(error), this.#opts.closeTimeoutMs);
    this.#scheduleService();
  }

  // ---------------------------------------------------------------- queue service

  #enqueue(entry: OutEntry): void {
    this.#txQueue.push(entry);
    this.#scheduleService();
  }

  #scheduleService(): void {
    if (this.#serviceScheduled || this.state === 'closed') return;
    this.#serviceScheduled = true;
    defer(() => {
      this.#serviceScheduled = false;
      this.#service();
    });
  }

  #service(): void {
    if (this.state === 'closed' || this.#onDeck || this.#txQueue.length === 0) return;
    if (this.#lastRxNonce === false) return; // previous message not acked yet
    const first = this.#txQueue[0]!;
    if (!this.dcpsid) {
      const op = first.kind === 'request' ? (first.payload as { operation?: string }).operation : undefined;
      if (op !== 'connect' && op !== 'close') return; // waits for the session
    }
    const entries: OutEntry[] = [this.#txQueue.shift()!];
    if (this.dcpsid && !first.noBatch && (this.state === 'established' || this.state === 'closing')) {
      while (this.#txQueue.length && entries.length < this.#opts.maxBatch && !this.#txQueue[0]!.noBatch)
        entries.push(this.#txQueue.shift()!);
    }
    const nonce = this.#lastRxNonce;
    this.#lastRxNonce = false;
    const ackToken = this.#makeToken('AT');
    const time = this.currentTime();
    let body: Record<string, unknown>;
    if (entries.length === 1) {
      body = { ...this.#networkForm(entries[0]!, false, time), ackToken, nonce };
    } else {
      body = {
        id: this.#newId(),
        type: 'batch',
        payload: entries.map((e) => this.#networkForm(e, true, time)),
        auth: {},
        dcpsid: this.dcpsid,
        time,
        ackToken,
        nonce,
      };
    }
    let sealed: string;
    try {
      sealed = seal(this.identity, body);
    } catch (error) {
      this.#sessionFailure(new DcpError(DcpErrorCode.EINTERNAL, `could not sign message: ${String(error)}`));
      return;
    }
    this.#onDeck = { ackToken, sealed, entries, link: null };
    this.stats.txMessages++;
    if (entries.length > 1) this.stats.txBatches++;
    this.#transmitOnDeck();
  }

  #networkForm(entry: OutEntry, inBatch: boolean, time: number): Record<string, unknown> {
    let payload = entry.payload;
    const auth: Record<string, unknown> = {};
    if (entry.kind !== 'response') {
      const p = { ...(payload as Record<string, unknown>) };
      const allow = [...((p.allow as unknown[]) ?? [])];
      for (const ks of entry.authorize ?? [])
        allow.push({ resource: ks.address, guardian: this.peerAddress, accessor: this.identity.address });
      p.allow = allow;
      if (inBatch && p.data !== undefined) {
        const { data, ...rest } = p;
        payload = { ...rest, jsonData: JSON.stringify(data) };
      } else payload = p;
      if (entry.authorize?.length) {
        const json = JSON.stringify(payload);
        for (const ks of entry.authorize) auth[ks.address] = ks.sign(json);
      }
    }
    return {
      id: entry.id,
      type: entry.kind,
      success: entry.kind === 'response' ? entry.success : undefined,
      payload,
      auth,
      dcpsid: this.dcpsid,
      time,
    };
  }

  #transmitOnDeck(): void {
    const deck = this.#onDeck;
    const link = this.#link;
    if (!deck || !link || link.closed || deck.link === link) return;
    deck.link = link;
    for (const entry of deck.entries) entry.onSent?.();
    if (deck.rttTimer) clearTimeout(deck.rttTimer);
    if (this.role === 'initiator') {
      deck.rttTimer = timer(() => {
        if (this.#onDeck === deck && this.#link === link) link.close('max RTT exceeded');
      }, this.#opts.maxRttMs);
    }
    link.send(deck.sealed);
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

  #makeRequestEntry(
    operation: string,
    data: unknown,
    options: RequestOptions = {},
  ): OutEntry & { promise: Promise<unknown> } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: DcpError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    return {
      kind: 'request',
      id: this.#newId(),
      payload: { operation, data, allow: [], validity: this.#makeValidity(options.validity) },
      authorize: options.authorize,
      resolve,
      reject,
      promise,
    };
  }

  #makeResponseEntry(
    id: string,
    payload: unknown,
    success: boolean,
  ): OutEntry & { promise: Promise<unknown> } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: DcpError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    return { kind: 'response', id, payload, success, resolve, reject, promise };
  }

  #closedError(): DcpError {
    return new DcpError(this.closeError?.code ?? DcpErrorCode.EPIPE, 'connection is closed');
  }

  #finalize(error: DcpError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = error;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    if (this.#quiet) {
      if (this.#quiet.timer) clearTimeout(this.#quiet.timer);
      clearTimeout(this.#quiet.max);
      this.#quiet = undefined;
    }
    if (this.#onDeck?.rttTimer) clearTimeout(this.#onDeck.rttTimer);
    const deck = this.#onDeck;
    this.#onDeck = null;
    const failed = new DcpError(error.code, error.message);
    for (const entry of deck?.entries ?? []) if (entry.kind !== 'request') entry.reject(failed);
    for (const entry of this.#txQueue) if (entry.kind !== 'request') entry.reject(failed);
    this.#txQueue = [];
    for (const entry of this.#pending.values()) entry.reject(failed);
    this.#pending.clear();
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

function asDcpError(error: unknown): DcpError {
  if (error instanceof DcpError) return error;
  return new DcpError(DcpErrorCode.EINVAL, error instanceof Error ? error.message : String(error));
}

/** Replace a `jsonData` string with parsed `data`, as DCP receivers do, without mutating the input. */
function decodeJsonData(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const p = payload as Record<string, unknown>;
  if (typeof p.jsonData !== 'string' || !p.jsonData) return payload;
  const { jsonData, ...rest } = p;
  try {
    return { ...rest, data: JSON.parse(jsonData as string) };
  } catch {
    throw new DcpError(DcpErrorCode.EINVAL, 'malformed message payload.jsonData');
  }
}
