import {
  DcpError,
  DcpErrorCode,
  type DcpInitiator,
  type IncomingRequest,
  type Logger,
} from '@dcp-emu/protocol';
import { type SchedMsgEvent, schedMsgEventSchema, subscribeResponseSchema } from './messages';

/** A SchedMsg command, as the listener hands it on. */
export type SchedMsgCommand = SchedMsgEvent['event']['data'];

/**
 * SchedMsg: subscribes (on its own event-router session) to `schedmsg::broadcast`,
 * `schedmsg::command` and `schedmsg::wake` for this worker (its address, its id, or broadcasts),
 * answers each pushed `event` (malformed: EINVAL, seen before: EDUP) and hands the command on.
 * `schedmsg::wake` is dcp-emu's "work is available"; dcp-worker never subscribes to it.
 */
export class SchedMsgListener {
  readonly #session: DcpInitiator;
  readonly #logger: Logger;
  readonly #filter: Record<string, unknown>;
  #subscriptions: { label: string; token: string }[] = [];
  #seenEvents = new Set<string>();

  constructor(
    session: DcpInitiator,
    who: { address: string; workerId: string },
    logger: Logger,
    onCommand: (command: SchedMsgCommand) => void,
  ) {
    this.#session = session;
    this.#logger = logger;
    this.#filter = { $or: [{ target: who.address }, { target: who.workerId }, { broadcast: true }] };
    session.on('request', (req) => {
      const command = this.#receive(req);
      if (command) onCommand(command);
    });
  }

  async subscribe(): Promise<void> {
    const filter = this.#filter;
    // schedmsg::wake: "work is available" pushes of dcp-emu's scheduler (dcp-worker never asks for them)
    await Promise.all(
      ['schedmsg::broadcast', 'schedmsg::command', 'schedmsg::wake'].map(async (label) => {
        try {
          const res = subscribeResponseSchema.parse(
            await this.#session.request('subscribe', { label, options: { filter } }),
          );
          this.#subscriptions.push({ label, token: res.token });
        } catch (e) {
          this.#logger.debug({ label, err: (e as Error).message }, 'SchedMsg subscribe failed');
        }
      }),
    );
  }

  async unsubscribe(): Promise<void> {
    const subs = this.#subscriptions.splice(0);
    await Promise.all(
      subs.map((s) =>
        this.#session
          .request('unsubscribe', { label: s.label, token: { token: s.token, options: {} } })
          .catch(() => undefined),
      ),
    );
  }

  /** Answers a pushed request; the command of a new, well-formed event. */
  #receive(req: IncomingRequest): SchedMsgCommand | undefined {
    if (req.operation !== 'event') {
      req.fail(new DcpError(DcpErrorCode.ENOTSUP, `unknown operation ${req.operation}`));
      return undefined;
    }
    const parsed = schedMsgEventSchema.safeParse(req.data);
    if (!parsed.success) {
      req.fail(new DcpError(DcpErrorCode.EINVAL, 'malformed SchedMsg event'));
      return undefined;
    }
    const id = String(parsed.data.event.eventId ?? '');
    if (id && this.#seenEvents.has(id)) {
      req.fail(new DcpError(DcpErrorCode.EDUP, `duplicate event ${id}`));
      return undefined;
    }
    if (id) {
      this.#seenEvents.add(id);
      // remember the latest ids only (wake-ups arrive all the time)
      if (this.#seenEvents.size > 1000)
        for (const old of this.#seenEvents) {
          this.#seenEvents.delete(old);
          break;
        }
    }
    req.respond('success');
    return parsed.data.event.data;
  }
}
