/**
 * A session's sending side: the queue of messages to send, batching (up to `maxBatch` entries per
 * envelope, one signature each), the stop-and-wait rule (one message on deck until its ack arrives;
 * the next one carries the nonce of that ack), retransmission over a new link, and the initiator's
 * max-RTT watchdog.
 */
import { seal } from './envelope';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';
import type { AckBody } from './messages';
import { defer, timer } from './ports';
import type { SessionRole, SessionState } from './session-types';
import { networkForm, type OnDeck, type OutEntry } from './session-wire';
import type { MessageLink } from './transport/frames';

/** What the outbox reads from its session (DcpSession has all of it). */
export interface OutboxSession {
  readonly role: SessionRole;
  readonly identity: Identity;
  readonly state: SessionState;
  readonly dcpsid: string | undefined;
  readonly peerAddress: string | undefined;
  readonly link: MessageLink | null;
  readonly stats: { txMessages: number; txBatches: number };
  currentTime(): number;
}

export interface OutboxOptions {
  maxBatch: number;
  maxRttMs: number;
  newId(): string;
  makeToken(prefix: 'AT' | 'NN'): string;
  /** a failure of the session itself (we could not sign) */
  fail(error: DcpError): void;
}

export class Outbox {
  #queue: OutEntry[] = [];
  #onDeck: OnDeck | null = null;
  #scheduled = false;
  /** null: nothing received yet (first message carries nonce null); false: consumed */
  #lastRxNonce: string | null | false = null;
  #lastRxAckToken: string | null = null;

  constructor(
    private readonly session: OutboxSession,
    private readonly opts: OutboxOptions,
  ) {}

  /** Something of ours is on deck or queued (the peer still owes us an ack). */
  get busy(): boolean {
    return this.#onDeck !== null || this.#queue.length > 0;
  }

  enqueue(entry: OutEntry): void {
    this.#queue.push(entry);
    this.schedule();
  }

  /** Put an entry first in the queue (the connect response); the caller schedules. */
  unshift(entry: OutEntry): void {
    this.#queue.unshift(entry);
  }

  schedule(): void {
    if (this.#scheduled || this.session.state === 'closed') return;
    this.#scheduled = true;
    defer(() => {
      this.#scheduled = false;
      this.#service();
    });
  }

  /** A (new) link is attached: resend what is on deck if it never went out on a link of this session. */
  attached(): void {
    const deck = this.#onDeck;
    if (deck && (deck.link === null || !this.session.dcpsid)) {
      deck.link = null;
      this.#transmitOnDeck();
    }
  }

  /** The peer's ack: true when it acks what is on deck (or repeats the last ack), false if unsolicited. */
  handleAck(ack: AckBody): boolean {
    const deck = this.#onDeck;
    if (deck && ack.token === deck.ackToken) {
      this.#lastRxAckToken = ack.token;
      this.#lastRxNonce = ack.nonce;
      if (deck.rttTimer) clearTimeout(deck.rttTimer);
      this.#onDeck = null;
      for (const entry of deck.entries) if (entry.kind !== 'request') entry.resolve(undefined);
      this.schedule();
      return true;
    }
    if (ack.token === this.#lastRxAckToken) {
      // duplicate ack (the peer resumed): retransmit what is on deck if it went out on an old link
      if (deck && deck.link !== this.session.link) {
        deck.link = null;
        this.#transmitOnDeck();
      }
      return true;
    }
    return false;
  }

  /** The session closed: fail the responses and notifications not acked; requests fail with `pending`. */
  close(failed: DcpError): void {
    if (this.#onDeck?.rttTimer) clearTimeout(this.#onDeck.rttTimer);
    const deck = this.#onDeck;
    this.#onDeck = null;
    for (const entry of deck?.entries ?? []) if (entry.kind !== 'request') entry.reject(failed);
    for (const entry of this.#queue) if (entry.kind !== 'request') entry.reject(failed);
    this.#queue = [];
  }

  #service(): void {
    const s = this.session;
    if (s.state === 'closed' || this.#onDeck || this.#queue.length === 0) return;
    if (this.#lastRxNonce === false) return; // previous message not acked yet
    const first = this.#queue[0]!;
    if (!s.dcpsid) {
      const op = first.kind === 'request' ? (first.payload as { operation?: string }).operation : undefined;
      if (op !== 'connect' && op !== 'close') return; // waits for the session
    }
    const entries: OutEntry[] = [this.#queue.shift()!];
    if (s.dcpsid && !first.noBatch && (s.state === 'established' || s.state === 'closing')) {
      while (this.#queue.length && entries.length < this.opts.maxBatch && !this.#queue[0]!.noBatch)
        entries.push(this.#queue.shift()!);
    }
    const nonce = this.#lastRxNonce;
    this.#lastRxNonce = false;
    const ackToken = this.opts.makeToken('AT');
    const time = s.currentTime();
    let body: Record<string, unknown>;
    if (entries.length === 1) {
      body = { ...networkForm(entries[0]!, false, time, s), ackToken, nonce };
    } else {
      body = {
        id: this.opts.newId(),
        type: 'batch',
        payload: entries.map((e) => networkForm(e, true, time, s)),
        auth: {},
        dcpsid: s.dcpsid,
        time,
        ackToken,
        nonce,
      };
    }
    let sealed: string;
    try {
      sealed = seal(s.identity, body);
    } catch (error) {
      this.opts.fail(new DcpError(DcpErrorCode.EINTERNAL, `could not sign message: ${String(error)}`));
      return;
    }
    this.#onDeck = { ackToken, sealed, entries, link: null };
    s.stats.txMessages++;
    if (entries.length > 1) s.stats.txBatches++;
    this.#transmitOnDeck();
  }

  #transmitOnDeck(): void {
    const deck = this.#onDeck;
    const link = this.session.link;
    if (!deck || !link || link.closed || deck.link === link) return;
    deck.link = link;
    for (const entry of deck.entries) entry.onSent?.();
    if (deck.rttTimer) clearTimeout(deck.rttTimer);
    if (this.session.role === 'initiator') {
      deck.rttTimer = timer(() => {
        if (this.#onDeck === deck && this.session.link === link) link.close('max RTT exceeded');
      }, this.opts.maxRttMs);
    }
    link.send(deck.sealed);
  }
}
