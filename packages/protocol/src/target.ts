import type { AckJournal } from './ack-journal';
import { type CryptoPort, getDefaultCrypto, sameAddress } from './crypto/port';
import { Emitter } from './emitter';
import { type Envelope, parseEnvelope, seal, verifyEnvelope } from './envelope';
import { DcpError, DcpErrorCode } from './errors';
import type { Identity } from './identity';
import type { Generation } from './messages';
import {
  type Clock,
  consoleLogger,
  cryptoRandom,
  type Logger,
  type Random,
  systemClock,
  timer,
} from './ports';
import type { OperationRegistry } from './registry';
import { DcpSession, type IncomingNotification } from './session';
import { type FrameOptions, FramedLink, type SocketLike } from './transport/frames';
import { StampCache, type ValidityOptions } from './validity';

export interface TargetOptions {
  /** the service key; keep it stable across restarts (clients pin it) */
  identity: Identity;
  crypto?: CryptoPort;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** how long a session whose transport dropped waits for the initiator to resume (default 10 min) */
  lingerMs?: number;
  /** least delay before telling an initiator with an unknown dcpsid to close (rate limit; default 50 ms) */
  noSessionCloseDelayMs?: number;
  closeTimeoutMs?: number;
  /**
   * Before we close a session (ours, or an unknown one an initiator resumes), the initiator must have
   * been silent this long with nothing of ours unacked (default 250 ms): dcp-client 5.6.1 rejects
   * the responses still in its queue when our close arrives, and crashes where it does not catch that.
   * An unknown session (after a restart) waits at least 1 s: its initiator may still be answering,
   * on a busy machine, what the old target pushed before it died.
   */
  closeQuietMs?: number;
  /** upper bound of that wait (default 30 s: a starved initiator drains slowly, a close costs nothing) */
  closeQuietMaxMs?: number;
  /**
   * Durable record of the last ack sent on each session (`fileAckJournal` in a data directory): after
   * a restart it lets the target make a resuming dcp-client retransmit its unacked message before the
   * close, instead of dcp-client rejecting it (fatal in 5.6.1's event subscriber).
   */
  ackJournal?: AckJournal;
  /** close sockets that send no DCP message within this time (default 30 s) */
  firstMessageTimeoutMs?: number;
  validity?: ValidityOptions;
  /** framing limits (fragment size we announce, largest message we accept) */
  frame?: Partial<FrameOptions>;
}

export interface ServiceDefinition {
  /** DCP service name, e.g. 'jobSubmit' */
  name: string;
  /** URL path of the service location, with leading and trailing '/', e.g. '/job-submit/' */
  path: string;
  registry: OperationRegistry;
}

export interface AcceptInfo {
  service: string;
  generation: Generation;
  /** remote address, for logs */
  remote?: string;
}

interface TargetEvents {
  /** a new session was established */
  session: (session: DcpSession, info: AcceptInfo) => void;
  /** a notification (5.x peers) arrived on a session */
  notification: (notification: IncomingNotification, info: AcceptInfo) => void;
  /** a message or frame was refused; the server carries on */
  protocolError: (error: DcpError, info: AcceptInfo) => void;
}

/** 'jobSubmit' → '/job-submit/' */
export function defaultServicePath(name: string): string {
  return `/${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}/`;
}

/**
 * The DCPv5 target (server) side, transport-agnostic: accepts socket.io sockets (see
 * `attachDcpTarget` in `@dcp-emu/protocol/node`), opens or resumes sessions by dcpsid, tells
 * initiators with an unknown dcpsid to close, and routes requests to each service's registry.
 */
export class DcpTarget extends Emitter<TargetEvents> {
  readonly identity: Identity;
  readonly crypto: CryptoPort;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly stampCache = new StampCache();
  readonly #options: TargetOptions;
  readonly #services = new Map<string, ServiceDefinition>();
  readonly #sessions = new Map<string, { session: DcpSession; info: AcceptInfo }>();
  readonly #links = new Set<FramedLink>();
  #closed = false;

  constructor(options: TargetOptions) {
    super();
    this.#options = options;
    this.identity = options.identity;
    this.crypto = options.crypto ?? options.identity.crypto ?? getDefaultCrypto();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom;
    this.logger = options.logger ?? consoleLogger;
  }

  get address(): string {
    return this.identity.address;
  }

  /** Register a service: its name, its registry, and the URL path of its location. */
  service(name: string, registry: OperationRegistry, options: { path?: string } = {}): ServiceDefinition {
    const path = options.path ?? defaultServicePath(name);
    if (!path.startsWith('/') || !path.endsWith('/'))
      throw new Error(`service path ${path} must start and end with /`);
    for (const s of this.#services.values())
      if (s.path === path) throw new Error(`services ${s.name} and ${name} share the path ${path}`);
    const def: ServiceDefinition = { name, path, registry };
    this.#services.set(name, def);
    return def;
  }

  services(): ServiceDefinition[] {
    return [...this.#services.values()];
  }

  /**
   * Service locations to hand to clients (the config endpoint): 5.x clients get `<base><path>`,
   * 4.x clients `<base><v4Prefix><path>`.
   */
  locations(baseUrl: string | URL, generation: Generation, v4Prefix = '/v4'): Record<string, URL> {
    const base = new URL(baseUrl);
    const out: Record<string, URL> = {};
    for (const s of this.#services.values())
      out[s.name] = new URL((generation === 4 ? v4Prefix.replace(/\/$/, '') : '') + s.path, base.origin);
    return out;
  }

  sessions(): DcpSession[] {
    return [...this.#sessions.values()].map((s) => s.session);
  }

  getSession(dcpsid: string): DcpSession | undefined {
    return this.#sessions.get(dcpsid)?.session;
  }

  /** Take over a connected socket.io socket of a service path. */
  accept(socket: SocketLike, info: AcceptInfo): FramedLink {
    const link = new FramedLink(socket, this.#options.frame);
    if (this.#closed) {
      link.close('target closed');
      return link;
    }
    this.#links.add(link);
    link.on('close', () => this.#links.delete(link));
    link.on('error', (error) => this.#refuse(error, info));
    link.announce();
    const silent = timer(() => {
      this.#refuse(new DcpError(DcpErrorCode.EINVAL, 'no DCP message received'), info);
      link.close('silent');
    }, this.#options.firstMessageTimeoutMs ?? 30_000);
    link.on('close', () => clearTimeout(silent));
    const first = (sealed: string) => {
      clearTimeout(silent);
      link.off('message', first);
      this.#firstMessage(link, sealed, info);
    };
    link.on('message', first);
    return link;
  }

  /** Close every session (peers get a close request) and refuse new ones. */
  async close(code: string = DcpErrorCode.EPIPE): Promise<void> {
    this.#closed = true;
    await Promise.all(this.sessions().map((s) => s.close(code)));
    for (const link of this.#links) link.close('target closed');
  }

  #refuse(error: DcpError, info: AcceptInfo): void {
    this.logger.warn({ code: error.code, err: error.message, service: info.service }, 'refused DCP message');
    this.emit('protocolError', error, info);
  }

  #firstMessage(link: FramedLink, sealed: string, info: AcceptInfo): void {
    let env: Envelope;
    try {
      env = parseEnvelope(sealed);
      verifyEnvelope(env, this.crypto);
    } catch (error) {
      this.#refuse(
        error instanceof DcpError ? error : new DcpError(DcpErrorCode.EINVAL, String(error)),
        info,
      );
      link.close('refused');
      return;
    }
    const body = env.body as { dcpsid?: unknown; type?: unknown; payload?: { operation?: unknown } };
    if (typeof body.dcpsid === 'string') {
      const known = this.#sessions.get(body.dcpsid);
      if (!known) {
        this.#noSession(link, env, info);
        return;
      }
      if (!sameAddress(env.owner, known.session.peerAddress)) {
        this.#refuse(new DcpError(DcpErrorCode.EBADSIG, 'resume by a different owner'), info);
        link.close('refused');
        return;
      }
      this.#bind(known.session, link);
      known.session.receive(sealed, env, link);
      return;
    }
    if (body.type !== 'request' || body.payload?.operation !== 'connect') {
      this.#refuse(new DcpError(DcpErrorCode.EINVAL, 'first message is neither connect nor resume'), info);
      link.close('refused');
      return;
    }
    const session = new DcpSession({
      role: 'target',
      identity: this.identity,
      crypto: this.crypto,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      generation: info.generation,
      stampCache: this.stampCache,
      validity: this.#options.validity,
      closeTimeoutMs: this.#options.closeTimeoutMs,
      closeQuietMs: this.#options.closeQuietMs,
      closeQuietMaxMs: this.#options.closeQuietMaxMs,
      ackJournal: this.#options.ackJournal,
    });
    this.#wire(session, info);
    this.#bind(session, link);
    session.receive(sealed, env, link);
  }

  #bind(session: DcpSession, link: FramedLink): void {
    session.attach(link);
    link.on('message', (m) => session.receive(m, undefined, link));
    link.on('close', () => session.detach(link));
  }

  #wire(session: DcpSession, info: AcceptInfo): void {
    const service = this.#services.get(info.service);
    let linger: ReturnType<typeof setTimeout> | undefined;
    session.on('established', () => {
      if (!session.dcpsid) return;
      this.#sessions.set(session.dcpsid, { session, info });
      this.emit('session', session, info);
    });
    session.on('protocolError', (error) => this.emit('protocolError', error, info));
    session.on('notification', (n) => this.emit('notification', n, info));
    session.on('linkDown', () => {
      linger = timer(
        () => session.abort(new DcpError(DcpErrorCode.ENOSESSION, 'initiator did not resume')),
        this.#options.lingerMs ?? 600_000,
      );
    });
    session.on('linkUp', () => {
      if (linger) clearTimeout(linger);
    });
    session.on('closed', () => {
      if (linger) clearTimeout(linger);
      if (session.dcpsid && this.#sessions.get(session.dcpsid)?.session === session)
        this.#sessions.delete(session.dcpsid);
    });
    session.on('request', (request) => {
      if (!service) {
        request.fail(new DcpError(DcpErrorCode.ENOTSUP, `no service ${info.service}`));
        return;
      }
      void service.registry.dispatch(request, {
        peer: session.peerAddress ?? '',
        session,
        service: info.service,
        generation: info.generation,
        logger: this.logger,
      });
    });
  }

  /**
   * The initiator resumes a session we do not know (e.g. we restarted): send a signed `close` for its
   * dcpsid carrying the nonce from its retransmitted ack, so it ends the session and opens a new one.
   * Messages other than acks carry the wrong nonce for that, so we wait (bounded) for the ack; those
   * messages are acked so the initiator settles them. The close goes out once the initiator has
   * drained its queue: no message from it for the quiet period (bounded by closeQuietMaxMs), since
   * dcp-client rejects whatever is still queued when the close arrives.
   *
   * dcp-client resumes by retransmitting its last ack only; its unacked on-deck message goes out again
   * only on a duplicate of the last ack it received. So when, by the end of the quiet period, the
   * initiator sent nothing but acks (one with an empty queue would already have sent its resume
   * keepalive) and the ack journal knows the session, we send that ack once, ack what it retransmits,
   * and close after the next quiet period.
   *
   * dcp-client (4 and 5, and our initiator) queues a `keepalive` request behind everything else when it
   * resumes: once that arrives (and is acked), what it queued before is in, and the quiet period then
   * covers answers it computes late. An initiator that sent more than acks but no keepalive yet is
   * still draining: no quiet period closes it then, only the upper bound.
   */
  #noSession(link: FramedLink, first: Envelope, info: AcceptInfo): void {
    const dcpsid = (first.body as { dcpsid: string }).dcpsid;
    this.logger.debug({ dcpsid, service: info.service }, 'unknown dcpsid; telling peer to close');
    let sent = false;
    /** the nonce of the initiator's latest ack: what our close must carry */
    let nonce: string | undefined;
    /** the token of the last ack the old target sent on this session, if journaled */
    let journaled = this.#options.ackJournal?.last(dcpsid);
    let onlyAcks = true;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let max: ReturnType<typeof setTimeout> | undefined;
    const quietMs = Math.max(this.#options.noSessionCloseDelayMs ?? 50, this.#options.closeQuietMs ?? 1_000);
    const done = timer(
      () => link.close('no session'),
      (this.#options.closeQuietMaxMs ?? 30_000) + (this.#options.closeTimeoutMs ?? 7_000),
    );
    link.on('close', () => {
      clearTimeout(done);
      if (quiet) clearTimeout(quiet);
      if (max) clearTimeout(max);
    });
    /** the initiator's resume keepalive arrived: everything it queued before is in */
    let drained = false;
    const sendClose = (bound = false) => {
      if (sent || link.closed || nonce === undefined) return;
      // still draining (more than acks, no keepalive yet): only the upper bound closes now
      if (!bound && !drained && !onlyAcks) return;
      if (journaled !== undefined && onlyAcks && !drained) {
        // make the initiator retransmit (or settle) its on-deck message first
        const token = journaled;
        journaled = undefined;
        link.send(
          seal(this.identity, {
            type: 'ack',
            dcpsid,
            token,
            nonce: `NNt0-${this.random.string(21)}`,
            messageId: '',
          }),
        );
        if (quiet) clearTimeout(quiet);
        quiet = timer(sendClose, quietMs);
        return;
      }
      sent = true;
      this.#options.ackJournal?.forget(dcpsid);
      if (quiet) clearTimeout(quiet);
      if (max) clearTimeout(max);
      const now = this.clock.now() / 1000;
      const close = {
        id: `0-0-${this.random.string(21)}`,
        type: 'request',
        payload: {
          operation: 'close',
          data: DcpErrorCode.ENOSESSION,
          allow: [],
          validity: { stamp: this.random.string(21), ttl: 120, time: now },
        },
        auth: {},
        dcpsid,
        time: now,
        ackToken: `ATt0-${this.random.string(21)}`,
        nonce,
      };
      link.send(seal(this.identity, close));
    };
    const consider = (env: Envelope) => {
      const body = env.body as {
        type?: unknown;
        nonce?: unknown;
        dcpsid?: unknown;
        ackToken?: unknown;
        id?: unknown;
      };
      if (!sameAddress(env.owner, first.owner) || body.dcpsid !== dcpsid) return;
      if (body.type !== 'ack') onlyAcks = false;
      if (body.type !== 'ack' && typeof body.ackToken === 'string' && typeof body.id === 'string') {
        // A message the initiator retransmits on resume (e.g. its answer to one of our event pushes)
        // is acked, so it settles instead of being rejected by our close: dcp-client does not catch
        // that rejection in every caller (its event subscriber) and would crash.
        link.send(
          seal(this.identity, {
            type: 'ack',
            dcpsid,
            token: body.ackToken,
            nonce: `NNt0-${this.random.string(21)}`,
            messageId: body.id,
          }),
        );
      }
      if (body.type === 'response' && sent) {
        // the peer acked our close and said 'goodbye'
        clearTimeout(done);
        link.close('no session');
        return;
      }
      if (sent) return;
      if (body.type === 'ack' && typeof body.nonce === 'string') nonce = body.nonce;
      if (isResumeKeepalive(env.body)) drained = true;
      if (nonce === undefined) return;
      max ??= timer(() => sendClose(true), this.#options.closeQuietMaxMs ?? 30_000);
      if (quiet) clearTimeout(quiet);
      quiet = timer(sendClose, quietMs);
    };
    link.on('message', (m) => {
      try {
        const env = parseEnvelope(m);
        verifyEnvelope(env, this.crypto);
        consider(env);
      } catch {
        link.close('refused');
      }
    });
    consider(first);
  }
}

/** A `keepalive` request, alone or in a batch: what dcp-client queues last when it resumes a session. */
function isResumeKeepalive(body: unknown): boolean {
  const b = body as { type?: unknown; payload?: unknown };
  if (b.type === 'batch' && Array.isArray(b.payload)) return b.payload.some(isResumeKeepalive);
  return (
    b.type === 'request' && (b.payload as { operation?: unknown } | undefined)?.operation === 'keepalive'
  );
}
