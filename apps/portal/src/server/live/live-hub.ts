import { DcpErrorCode } from '@dcp-emu/protocol';
import type { Result } from '../result';
import { isTopic, type TopicReader } from './topics';

/** Messages the browser sends: subscribe to / unsubscribe from a topic. */
export type ClientMessage = { type: 'subscribe' | 'unsubscribe'; topic: string };

/** Messages the server pushes: a topic's new state (only when it changed), or why it cannot be read. */
export type ServerMessage =
  | { type: 'update'; topic: string; data: unknown }
  | { type: 'error'; topic: string; error: { code: string; message: string } };

export interface LiveConnection {
  send(message: ServerMessage): void;
}

export interface LiveOptions {
  /** how often a subscribed topic is read again (ms) */
  intervalMs: number;
  /** most topics one connection may follow at once */
  maxTopics: number;
  readerFor(topic: string): TopicReader;
}

interface Subscription {
  timer?: ReturnType<typeof setTimeout>;
  /** JSON of the last state sent; a read that gives the same text sends nothing */
  last?: string;
  stopped: boolean;
}

/**
 * One browser's live subscriptions. Each topic is read right away and then every `intervalMs`
 * (never overlapping: the next read is scheduled when the previous one ends); a state is pushed only
 * when it differs from the last one pushed, so an idle page costs one small read per interval and
 * no traffic.
 */
export class LiveSession {
  readonly #subs = new Map<string, Subscription>();
  #closed = false;

  constructor(
    private readonly userId: string,
    private readonly connection: LiveConnection,
    private readonly options: LiveOptions,
  ) {}

  get topics(): string[] {
    return [...this.#subs.keys()];
  }

  /** Handles one raw message from the browser; malformed ones are answered with an error. */
  receive(raw: string): void {
    let message: Partial<ClientMessage>;
    try {
      message = JSON.parse(raw) as Partial<ClientMessage>;
    } catch {
      this.connection.send({
        type: 'error',
        topic: '',
        error: { code: DcpErrorCode.EINVAL, message: 'messages are JSON' },
      });
      return;
    }
    if (!isTopic(message.topic)) {
      this.connection.send({
        type: 'error',
        topic: String(message.topic ?? ''),
        error: { code: DcpErrorCode.EINVAL, message: 'unknown topic' },
      });
      return;
    }
    if (message.type === 'subscribe') this.subscribe(message.topic);
    else if (message.type === 'unsubscribe') this.unsubscribe(message.topic);
  }

  subscribe(topic: string): void {
    if (this.#closed || this.#subs.has(topic)) return;
    if (this.#subs.size >= this.options.maxTopics) {
      this.connection.send({
        type: 'error',
        topic,
        error: {
          code: DcpErrorCode.ETOOBIG,
          message: `at most ${this.options.maxTopics} topics per connection`,
        },
      });
      return;
    }
    const sub: Subscription = { stopped: false };
    this.#subs.set(topic, sub);
    void this.#tick(topic, sub, this.options.readerFor(topic));
  }

  unsubscribe(topic: string): void {
    const sub = this.#subs.get(topic);
    if (!sub) return;
    sub.stopped = true;
    if (sub.timer) clearTimeout(sub.timer);
    this.#subs.delete(topic);
  }

  close(): void {
    this.#closed = true;
    for (const topic of [...this.#subs.keys()]) this.unsubscribe(topic);
  }

  async #tick(topic: string, sub: Subscription, read: TopicReader): Promise<void> {
    let result: Result<unknown>;
    try {
      result = await read(this.userId);
    } catch (e) {
      result = {
        ok: false,
        error: { code: DcpErrorCode.EINTERNAL, message: e instanceof Error ? e.message : String(e) },
      };
    }
    if (sub.stopped) return;
    const message: ServerMessage = result.ok
      ? { type: 'update', topic, data: result.value }
      : { type: 'error', topic, error: { code: result.error.code, message: result.error.message } };
    const text = JSON.stringify(message);
    if (text !== sub.last) {
      sub.last = text;
      this.connection.send(message);
    }
    sub.timer = setTimeout(() => void this.#tick(topic, sub, read), this.options.intervalMs);
    sub.timer.unref?.();
  }
}
