/**
 * A session's receiving side, after the envelope's signature checked out: acks of our messages go to
 * the outbox; every other message is acked (its ack carries the nonce the peer's next message must
 * repeat; a repeated message gets the same ack again), checked against the nonce chain and handled —
 * responses settle our requests, requests and notifications go to the application after their
 * validity stamp and authorizations are checked, batches are unpacked. Messages before the session
 * is established go back to the session (the connect handshake).
 */
import type { AckJournal } from './ack-journal';
import { authorizedResources } from './auth';
import { seal } from './envelope';
import { DcpError, DcpErrorCode } from './errors';
import {
  type AckBody,
  ackBodySchema,
  type MessageBody,
  messageBodySchema,
  notificationPayloadSchema,
} from './messages';
import type { DcpSession } from './session';
import { incomingRequest, parseRequestPayload } from './session-incoming';
import type { Outbox } from './session-outbox';
import type { PendingRequests } from './session-requests';
import type { IncomingNotification, IncomingRequest } from './session-types';
import { asDcpError, decodeJsonData, responseEntry } from './session-wire';
import type { MessageLink } from './transport/frames';
import { type StampCache, type ValidityOptions, validityError } from './validity';

/** What the inbox needs of its session beyond the session's public face. */
export interface InboxHost {
  readonly session: DcpSession;
  readonly outbox: Outbox;
  readonly pending: PendingRequests;
  readonly journal: AckJournal | undefined;
  readonly stamps: StampCache;
  readonly validity: ValidityOptions;
  /** target: our clock minus the initiator's own clock (from its connect request) */
  peerClockOffset(): number;
  makeToken(prefix: 'NN'): string;
  transmit(sealed: string): void;
  adoptClock(msg: MessageBody): void;
  handleNoSession(msg: MessageBody): void;
  respondGoodbyeAndClose(id: string): void;
  linkFailure(error: DcpError, link: MessageLink | null): void;
  sessionFailure(error: DcpError): void;
  emitProtocolError(error: DcpError): void;
  emitRequest(request: IncomingRequest): void;
  emitNotification(notification: IncomingNotification): void;
}

export class Inbox {
  #lastRxMessageId: string | null = null;
  #lastTxAckSealed: string | null = null;
  #lastTxNonce: string | null = null;

  constructor(private readonly host: InboxHost) {}

  /** Our last ack, sent again on a new link. */
  get lastAck(): string | null {
    return this.#lastTxAckSealed;
  }

  /** One verified envelope body from `link`. */
  receive(body: Record<string, unknown>, link: MessageLink | null): void {
    const { host } = this;
    const s = host.session;
    if (body.type === 'ack') {
      const ack = ackBodySchema.safeParse(body);
      if (!ack.success) {
        host.linkFailure(new DcpError(DcpErrorCode.EINVAL, 'malformed ack'), link);
        return;
      }
      s.stats.rxAcks++;
      if (!host.outbox.handleAck(ack.data))
        host.sessionFailure(new DcpError(DcpErrorCode.EINVAL, `unsolicited ack ${ack.data.token}`));
      return;
    }
    const parsed = messageBodySchema.safeParse(body);
    if (!parsed.success) {
      host.linkFailure(new DcpError(DcpErrorCode.EINVAL, 'malformed message body'), link);
      return;
    }
    const msg = parsed.data;
    if (this.#lastRxMessageId === msg.id) {
      if (this.#lastTxAckSealed) host.transmit(this.#lastTxAckSealed);
      return;
    }
    this.#lastRxMessageId = msg.id;
    s.stats.rxMessages++;
    if (msg.type === 'batch') s.stats.rxBatches++;
    const expectedNonce = this.#lastTxNonce;
    this.#sendAck(msg);
    try {
      if (s.dcpsid && msg.dcpsid !== s.dcpsid)
        throw new DcpError(DcpErrorCode.EINVAL, 'message has incorrect dcpsid');
      if (!s.dcpsid) {
        host.handleNoSession(msg);
        return;
      }
      if (!msg.nonce || msg.nonce !== expectedNonce)
        throw new DcpError(DcpErrorCode.EINVAL, `nonce mismatch (got ${msg.nonce}, want ${expectedNonce})`);
      this.#handleBody(msg, false);
    } catch (error) {
      host.sessionFailure(asDcpError(error));
    }
  }

  #sendAck(msg: MessageBody): void {
    const s = this.host.session;
    const nonce = this.host.makeToken('NN');
    // Include the dcpsid even in the ack of the connect response so that this ack can resume the session.
    const dcpsid = s.dcpsid ?? (s.role === 'initiator' && msg.type === 'response' ? msg.dcpsid : undefined);
    const ack: AckBody = { type: 'ack', dcpsid, token: msg.ackToken as string, nonce, messageId: msg.id };
    const sealed = seal(s.identity, ack);
    if (dcpsid && this.host.journal && typeof msg.ackToken === 'string')
      this.host.journal.record(dcpsid, msg.ackToken);
    this.host.transmit(sealed);
    this.#lastTxNonce = nonce;
    this.#lastTxAckSealed = sealed;
    s.stats.txAcks++;
  }

  #handleBody(msg: MessageBody, inner: boolean): void {
    const { host } = this;
    switch (msg.type) {
      case 'request':
        this.#handleRequest(msg);
        return;
      case 'response':
        host.adoptClock(msg);
        host.pending.settle(msg);
        return;
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
        if (host.session.state !== 'established') return;
        const rawPayload = msg.payload;
        const err = this.#validityError(payload.data.validity);
        if (err) {
          host.emitProtocolError(err);
          return;
        }
        const data = decodeJsonData(rawPayload) as { data?: unknown };
        host.emitNotification({
          data: data.data,
          rawPayload,
          authorized: this.#authorized(rawPayload, msg.auth),
          session: host.session,
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
    const { stamps, validity: options } = this.host;
    const now = this.host.session.currentTime();
    const offset = this.host.peerClockOffset();
    const err = validityError(validity, now, stamps, options);
    if (!err || Math.abs(offset) < 1) return err;
    if (err.code !== DcpErrorCode.EEXPIRED && err.code !== DcpErrorCode.ETIMETRAVEL) return err;
    return validityError(validity, now - offset, stamps, options);
  }

  #authorized(rawPayload: unknown, auth: Record<string, unknown> | undefined): string[] {
    const s = this.host.session;
    if (!s.peerAddress) return [];
    return authorizedResources(s.crypto, rawPayload, auth, s.identity.address, s.peerAddress);
  }

  #handleRequest(msg: MessageBody): void {
    const { host } = this;
    const s = host.session;
    const rawPayload = msg.payload;
    const parsed = parseRequestPayload(rawPayload);
    if (parsed instanceof DcpError) {
      this.#respondError(msg.id, parsed);
      return;
    }
    const { operation, data } = parsed;
    switch (operation) {
      case 'connect':
        throw new DcpError(DcpErrorCode.EINVAL, 'unexpected connect request');
      case 'keepalive':
        host.outbox.enqueue(responseEntry(msg.id, { success: true }, true));
        return;
      case 'close':
        host.respondGoodbyeAndClose(msg.id);
        return;
    }
    if (s.state !== 'established') return; // closing: no new work
    const err = this.#validityError(parsed.validity);
    if (err) {
      host.emitProtocolError(err);
      this.#respondError(msg.id, err);
      return;
    }
    const request = incomingRequest({
      id: msg.id,
      operation,
      data,
      rawPayload,
      auth: msg.auth,
      authorized: this.#authorized(rawPayload, msg.auth),
      session: s,
      logger: s.logger,
      send: (payload, success) => host.outbox.enqueue(responseEntry(msg.id, payload, success)),
    });
    if (s.listenerCount('request') === 0) {
      request.fail(new DcpError(DcpErrorCode.ENOTSUP, `operation '${operation}' is not supported`));
      return;
    }
    host.emitRequest(request);
  }

  #respondError(id: string, error: DcpError): void {
    const s = this.host.session;
    this.host.outbox.enqueue(responseEntry(id, error.toPayload(s.identity.address), false));
  }
}
