import { Emitter } from '../emitter';
import { DcpError, DcpErrorCode } from '../errors';
import type { PeerCapabilities } from '../messages';

/** What a socket.io socket (server or client side) offers us. */
export interface SocketLike {
  send(data: string): unknown;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  on(event: 'disconnect', listener: (reason: string) => void): unknown;
  disconnect(): unknown;
}

/** A message-level link a session transmits sealed messages over. */
export interface MessageLink {
  readonly id: number;
  send(sealed: string): void;
  close(reason?: string): void;
  readonly closed: boolean;
}

export interface FrameOptions {
  /** Largest fragment we accept and announce (JS characters). DCP: 3e5. */
  rxMaxFragmentSize: number;
  /** Most fragments per message we accept (0 = unlimited). */
  rxMaxFragmentCount: number;
  /** Largest whole message we accept (JS characters), whole or reassembled. */
  maxMessageSize: number;
  /** Extra incoming-frame hook (wire logging). */
  wireLog?: (direction: 'rx' | 'tx', frame: string) => void;
}

export const defaultFrameOptions: FrameOptions = {
  rxMaxFragmentSize: 3e5,
  rxMaxFragmentCount: 0,
  maxMessageSize: 512e6,
};

interface FramedLinkEvents {
  message: (sealed: string) => void;
  close: (reason: string) => void;
  /** a framing error; the link closes right after */
  error: (error: DcpError) => void;
}

let linkSeq = 0;

/**
 * DCP's socket.io framing: `{…}` whole messages, `E` extended frames (`P` capability announcement,
 * `C` fragments, `O` out-of-order), `A` transport acks and `T` debug text (both ignored).
 * Outgoing messages longer than the peer's announced `rxMaxFragmentSize` are fragmented.
 */
export class FramedLink extends Emitter<FramedLinkEvents> implements MessageLink {
  readonly id = ++linkSeq;
  readonly options: FrameOptions;
  peer: PeerCapabilities = {
    canOoo: false,
    canAck: false,
    wantsConcat: true,
    wantsAck: false,
    rxMaxFragmentSize: 1e6,
    rxMaxFragmentCount: 100,
  };
  #closed = false;
  #txSeq = 0;
  readonly #fragments = new Map<number, { parts: (string | undefined)[]; have: number; size: number }>();
  /** characters held in incomplete messages, all msgIds together */
  #buffered = 0;

  constructor(
    readonly socket: SocketLike,
    options: Partial<FrameOptions> = {},
  ) {
    super();
    this.options = { ...defaultFrameOptions, ...options };
    socket.on('message', (data) => this.#onFrame(data));
    socket.on('disconnect', (reason) => this.#onDisconnect(reason));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send our capability announcement (both roles do, right after connecting). */
  announce(): void {
    const me: PeerCapabilities = {
      canOoo: true,
      canAck: false,
      wantsConcat: true,
      wantsAck: false,
      rxMaxFragmentSize: this.options.rxMaxFragmentSize,
      rxMaxFragmentCount: this.options.rxMaxFragmentCount,
      hasAnnounced: true,
    };
    this.#write(`E0000P${JSON.stringify(me)}`);
  }

  send(sealed: string): void {
    if (this.#closed) return;
    const max = this.peer.rxMaxFragmentSize;
    if (!(sealed.length > max) || !this.peer.wantsConcat) {
      this.#write(sealed);
      return;
    }
    const total = Math.ceil(sealed.length / max);
    if (this.peer.rxMaxFragmentCount && total > this.peer.rxMaxFragmentCount) {
      this.#fail(new DcpError(DcpErrorCode.ETOOBIG, 'message requires more fragments than the peer allows'));
      return;
    }
    const msgId = ++this.#txSeq;
    for (let seq = 0; seq < total; seq++) {
      const header = JSON.stringify({ msgId, seq, total });
      this.#write(
        `E${header.length.toString(16).padStart(4, '0')}C${header}${sealed.slice(seq * max, (seq + 1) * max)}`,
      );
    }
  }

  /** Send a small message ahead of anything queued (`O` frame) when the peer supports it. */
  sendOutOfOrder(sealed: string): void {
    this.#write(this.peer.canOoo ? `E0000O${sealed}` : sealed);
  }

  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fragments.clear();
    try {
      this.socket.disconnect();
    } catch {
      // already gone
    }
    this.emit('close', reason);
  }

  #write(frame: string): void {
    if (this.#closed) return;
    this.options.wireLog?.('tx', frame);
    this.socket.send(frame);
  }

  #fail(error: DcpError): void {
    if (this.#closed) return;
    this.emit('error', error);
    this.close(error.code);
  }

  #onDisconnect(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fragments.clear();
    this.emit('close', reason);
  }

  #deliver(sealed: string): void {
    if (sealed.length > this.options.maxMessageSize) {
      this.#fail(new DcpError(DcpErrorCode.ETOOBIG, `message of ${sealed.length} characters is too big`));
      return;
    }
    this.emit('message', sealed);
  }

  #onFrame(data: unknown): void {
    if (this.#closed || typeof data !== 'string' || data.length === 0) return;
    this.options.wireLog?.('rx', data);
    switch (data[0]) {
      case '{':
        this.#deliver(data);
        return;
      case 'E':
        this.#onExtended(data);
        return;
      case 'A':
      case 'T':
        return;
      default:
        this.#fail(new DcpError(DcpErrorCode.EINVAL, `unrecognized frame type ${JSON.stringify(data[0])}`));
    }
  }

  #onExtended(frame: string): void {
    const headerSize = Number.parseInt(frame.slice(1, 5), 16);
    if (!Number.isFinite(headerSize) || headerSize < 0 || frame.length < 6 + headerSize) {
      this.#fail(new DcpError(DcpErrorCode.EINVAL, 'corrupt extended frame'));
      return;
    }
    const type = frame[5];
    const header = frame.slice(6, 6 + headerSize);
    const payload = frame.slice(6 + headerSize);
    switch (type) {
      case 'P':
        try {
          const caps = JSON.parse(payload) as Partial<PeerCapabilities>;
          if (caps && typeof caps === 'object') {
            const size = Number(caps.rxMaxFragmentSize);
            this.peer = {
              ...this.peer,
              ...caps,
              rxMaxFragmentSize: size > 0 ? size : this.peer.rxMaxFragmentSize,
            };
          }
        } catch {
          this.#fail(new DcpError(DcpErrorCode.EINVAL, 'corrupt capability announcement'));
        }
        return;
      case 'O':
        this.#deliver(payload);
        return;
      case 'C':
        this.#onFragment(header, payload);
        return;
      default:
        return; // unknown extended types are ignored, as DCP does when not strict
    }
  }

  #onFragment(headerText: string, payload: string): void {
    let header: { msgId?: unknown; seq?: unknown; total?: unknown };
    try {
      header = JSON.parse(headerText) as typeof header;
    } catch {
      this.#fail(new DcpError(DcpErrorCode.EINVAL, 'corrupt fragment header'));
      return;
    }
    const { msgId, seq, total } = header;
    if (
      typeof msgId !== 'number' ||
      typeof seq !== 'number' ||
      typeof total !== 'number' ||
      !Number.isInteger(seq) ||
      !Number.isInteger(total) ||
      seq < 0 ||
      !(seq < total)
    ) {
      this.#fail(new DcpError(DcpErrorCode.EINVAL, 'corrupt fragment header'));
      return;
    }
    // Fragments larger than we announced are tolerated (peers send 1e6 before hearing our announcement);
    // the whole message is bounded by maxMessageSize.
    const { rxMaxFragmentCount, maxMessageSize } = this.options;
    if (rxMaxFragmentCount && total > rxMaxFragmentCount) {
      this.#fail(new DcpError(DcpErrorCode.ETOOBIG, 'message fragment count limit exceeded'));
      return;
    }
    let entry = this.#fragments.get(msgId);
    if (!entry) {
      entry = { parts: new Array<string | undefined>(total), have: 0, size: 0 };
      this.#fragments.set(msgId, entry);
    }
    if (entry.parts.length !== total) {
      this.#fail(new DcpError(DcpErrorCode.EINVAL, 'inconsistent fragment total'));
      return;
    }
    if (entry.parts[seq] === undefined) {
      entry.parts[seq] = payload;
      entry.have++;
      entry.size += payload.length;
      this.#buffered += payload.length;
    }
    if (entry.size > maxMessageSize || this.#buffered > maxMessageSize) {
      this.#fail(
        new DcpError(DcpErrorCode.ETOOBIG, `message of more than ${maxMessageSize} characters is too big`),
      );
      return;
    }
    if (entry.have < total) return;
    this.#fragments.delete(msgId);
    this.#buffered -= entry.size;
    this.#deliver(entry.parts.join(''));
  }
}
