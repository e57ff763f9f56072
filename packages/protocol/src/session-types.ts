/** The public shapes of a DCPv5 session (DcpSession, session.ts): options, requests received, events. */
import type { AckJournal } from './ack-journal';
import type { CryptoPort } from './crypto/port';
import type { DcpError } from './errors';
import type { Identity } from './identity';
import type { Generation, Validity } from './messages';
import type { Clock, Logger, Random } from './ports';
import type { DcpSession } from './session';
import type { StampCache, ValidityOptions } from './validity';

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

export interface SessionEvents {
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
