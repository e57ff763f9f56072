import type { ClockTimer, DcpSession, Generation, Logger, Random } from '@dcp-emu/protocol/node';
import { type Clock, systemClock } from '../ports/clock';
import type { JobStore } from '../state/job-store';
import { EventOutbox } from './event-outbox';

/** Events that must reach the client even across reconnects and restarts (kept in the database). */
export const RELIABLE_EVENTS = new Set(['stop', 'nofunds']);

interface Push {
  sub: Subscription;
  eventName: string;
  data: Record<string, unknown>;
}

interface Subscription {
  session: DcpSession;
  generation: Generation;
  label: string;
  token: string;
  /** job filter, or schedmsg targets */
  job?: string;
  targets?: Set<string>;
  broadcast?: boolean;
  /** `schedmsg::wake` subscribers: when the last wake-up went out, and the trailing one if due */
  wake?: { last: number; timer?: ClockTimer };
}

/**
 * The label our worker subscribes to for "work is available" pushes. The unmodified dcp-worker never
 * subscribes to it (its SchedMsg would log "No SchedMsg handler registered" for an unknown command on
 * `schedmsg::command`), so only workers that asked for wake-ups get them.
 */
export const WAKE_LABEL = 'schedmsg::wake';
/**
 * At most one wake-up per worker per this many ms: one at once, one more at the window's end if asked.
 * A transport throttle: real time, not the scheduler's (virtual) clock.
 */
export const WAKE_INTERVAL_MS = 50;

export interface SubscribeOptions {
  filter?: { job?: string; $or?: { target?: string; broadcast?: boolean }[] };
}

/**
 * The event router: client subscriptions (by job) and worker SchedMsg subscriptions (by target),
 * pushes `event` requests over the subscriber's own session. Pushes to one session go out in order
 * through its EventOutbox (a bounded number awaiting answers, the DCP session batching them); reliable
 * events are stored first and replayed to a client
 * that subscribes again (reconnect, scheduler restart) until one has taken them.
 */
/** An optional event as the inspection API shows it (kept in memory, the latest per job). */
export interface RecentEvent {
  seq: number;
  name: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** How many optional events (console, error, noprogress, custom…) are kept per job for inspection. */
const RECENT_PER_JOB = 200;
/** Events that are not kept: results are stored with their slices, status is derived from counts. */
const NOT_KEPT = new Set(['result', 'status']);

/**
 * Event pushes per session waiting for the subscriber's answer (EventOutbox); more wait in order as
 * plain data. Five DCP batches' worth: enough to keep a fast subscriber busy.
 */
export const EVENT_WINDOW = 1_000;

/** How long after a subscription its `onSubscribe` hook runs. */
const SUBSCRIBE_SETTLE_MS = 250;

/** See `EventRouter.onSubscribe`. */
export type SubscribeHook = (
  job: string,
  deliver: (fields: Record<string, unknown>) => Promise<boolean>,
) => Promise<void>;

export class EventRouter {
  readonly #byJob = new Map<string, Set<Subscription>>();
  readonly #recent = new Map<string, RecentEvent[]>();
  #recentSeq = 0;
  readonly #schedmsg = new Set<Subscription>();
  readonly #bySession = new Map<DcpSession, Set<Subscription>>();
  readonly #onSubscribe = new Map<string, SubscribeHook>();
  readonly #outboxes = new Map<DcpSession, EventOutbox<Push>>();
  /** per job and session: pushes not answered yet (waiting in the session's outbox or in flight) */
  readonly #backlog = new Map<string, Map<DcpSession, number>>();
  /** the backlog at which the task distributor stops handing out a job's slices (see brakeAt) */
  #brake = Number.POSITIVE_INFINITY;
  /** onSubscribe hooks still pushing, by session and job: a reliable event (stop) waits for them */
  readonly #hooksRunning = new Map<DcpSession, Map<string, Promise<void>>>();
  /** stored reliable events being delivered, by seq (live and replay share one delivery) */
  readonly #reliableRunning = new Map<number, Promise<boolean>>();
  #eventSeq = 0;

  constructor(
    private readonly store: Pick<JobStore, 'addEvent' | 'pendingEvents' | 'markDelivered'>,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly logger: Logger,
    private readonly window = EVENT_WINDOW,
  ) {}

  subscribe(
    session: DcpSession,
    generation: Generation,
    label: string,
    options: SubscribeOptions = {},
  ): string {
    const name = label.toLowerCase();
    const token = `${name}-${this.random.string(21)}`;
    const sub: Subscription = { session, generation, label: name, token };
    if (name.startsWith('schedmsg::')) {
      sub.targets = new Set(
        (options.filter?.$or ?? []).flatMap((o) => (o.target ? [o.target.toLowerCase()] : [])),
      );
      sub.broadcast = (options.filter?.$or ?? []).some((o) => o.broadcast === true);
      this.#schedmsg.add(sub);
    } else {
      sub.job = options.filter?.job;
      if (sub.job) {
        const set = this.#byJob.get(sub.job) ?? new Set();
        set.add(sub);
        this.#byJob.set(sub.job, set);
      }
    }
    let mine = this.#bySession.get(session);
    if (!mine) {
      mine = new Set();
      this.#bySession.set(session, mine);
      session.on('closed', () => this.#drop(session));
    }
    mine.add(sub);
    if (sub.job)
      this.logger.info(
        { job: sub.job, label: name, dcpsid: session.dcpsid },
        'client subscribed to job events',
      );
    // delivered once the answer carrying the token is out: dcp-client refuses events for a token it
    // has not stored yet, and stores it only after handling the envelope that answered the subscription
    const settled = new Promise<void>((r) => systemClock.setTimeout(r, SUBSCRIBE_SETTLE_MS));
    // (after the settling time the job's other subscriptions of the same request are in, and their
    // hooks registered: a replayed stop waits for them)
    if (sub.job && RELIABLE_EVENTS.has(name)) void settled.then(() => this.#replay(sub));
    const hook = sub.job ? this.#onSubscribe.get(name) : undefined;
    if (hook && sub.job) {
      const job = sub.job;
      // called now: what the subscriber may have missed is known now
      this.#whileRunning(
        session,
        job,
        hook(job, async (fields) => {
          await settled;
          return this.#push(sub, name, { job, ...fields });
        }),
      );
    }
    return token;
  }

  /**
   * Called (synchronously) whenever a client subscribes to `label` events of a job, with a function
   * that pushes one event to that subscriber only, once its subscription is settled (true once it
   * took the event): e.g. results it may have missed.
   */
  onSubscribe(label: string, hook: SubscribeHook): void {
    this.#onSubscribe.set(label.toLowerCase(), hook);
  }

  unsubscribe(session: DcpSession, token: string): boolean {
    const sub = [...(this.#bySession.get(session) ?? [])].find((s) => s.token === token);
    if (!sub) return false;
    this.#remove(sub);
    return true;
  }

  /**
   * The job's latest optional events (console output, errors, no-progress, custom `work.emit`), oldest
   * first; kept in memory for the inspection API (they were pushed to subscribers as they came).
   */
  recent(job: string): RecentEvent[] {
    return [...(this.#recent.get(job) ?? [])];
  }

  /** The sessions of the job's subscribers (fault injection disconnects them). */
  subscriberSessions(job: string): DcpSession[] {
    return [...new Set([...(this.#byJob.get(job) ?? [])].map((s) => s.session))];
  }

  subscriberCount(job: string): number {
    return this.#byJob.get(job)?.size ?? 0;
  }

  /** Push an optional event (result, status, console, error, …) to the job's current subscribers. */
  emit(job: string, eventName: string, fields: Record<string, unknown>): void {
    if (!NOT_KEPT.has(eventName)) {
      const list = this.#recent.get(job) ?? [];
      list.push({
        seq: ++this.#recentSeq,
        name: eventName,
        data: { job, ...fields },
        createdAt: new Date(this.clock.now()),
      });
      if (list.length > RECENT_PER_JOB) list.splice(0, list.length - RECENT_PER_JOB);
      this.#recent.set(job, list);
    }
    for (const sub of this.#byJob.get(job) ?? []) {
      if (sub.label !== eventName.toLowerCase()) continue;
      void this.#push(sub, eventName, { job, ...fields });
    }
  }

  /**
   * Like `emit`, and resolves true once a subscriber took the event (false: nobody was subscribed or
   * no subscriber answered).
   */
  async emitTracked(job: string, eventName: string, fields: Record<string, unknown>): Promise<boolean> {
    const label = eventName.toLowerCase();
    const pushes: Promise<boolean>[] = [];
    for (const sub of this.#byJob.get(job) ?? [])
      if (sub.label === label) pushes.push(this.#push(sub, eventName, { job, ...fields }));
    return (await Promise.all(pushes)).some(Boolean);
  }

  /**
   * Store a reliable event (resolves once it is durable), then deliver it in the background; it stays
   * pending until a subscriber took it. Delivery waits for the client's answer, which a vanished
   * client may never give, so callers (the result batcher among them) must not wait for it.
   */
  async emitReliable(job: string, eventName: string, fields: Record<string, unknown>): Promise<void> {
    const stored = await this.store.addEvent(job, eventName, { job, ...fields }, new Date(this.clock.now()));
    void this.#deliverReliable(job, eventName, stored);
  }

  /**
   * Deliver a stored reliable event to one of the job's subscribers (the first that takes it), once:
   * a delivery already running for the same event (live, or a replay to a new subscriber) is joined,
   * not repeated. A pass that found nobody to take it is tried once more if subscribers came meanwhile.
   */
  #deliverReliable(
    job: string,
    eventName: string,
    stored: { seq: number; data: Record<string, unknown> },
  ): Promise<boolean> {
    const running = this.#reliableRunning.get(stored.seq);
    if (running) return running;
    const delivery = (async () => {
      try {
        const tried = new Set<Subscription>();
        for (let pass = 0; pass < 2; pass++) {
          for (const sub of [...(this.#byJob.get(job) ?? [])]) {
            if (sub.label !== eventName || tried.has(sub)) continue;
            tried.add(sub);
            if (await this.#pushReliable(sub, eventName, stored.data)) {
              await this.store.markDelivered(stored.seq);
              return true;
            }
          }
        }
      } catch (error) {
        this.logger.warn(
          { err: String(error), eventName, job },
          'reliable event delivery failed; it stays pending',
        );
      }
      return false;
    })().finally(() => this.#reliableRunning.delete(stored.seq));
    this.#reliableRunning.set(stored.seq, delivery);
    return delivery;
  }

  /** SchedMsg push to workers: by target (identity or worker id) or to all. */
  schedMsg(
    kind: 'command' | 'broadcast',
    command: string,
    payload: Record<string, unknown>,
    target?: string,
  ): number {
    let n = 0;
    for (const sub of this.#schedmsg) {
      if (sub.label !== `schedmsg::${kind}`) continue;
      if (target ? !sub.targets?.has(target.toLowerCase()) : !sub.broadcast) continue;
      n++;
      void this.#push(sub, `schedmsg::${kind}`, { command, payload });
    }
    return n;
  }

  /**
   * Work is available (a job was accepted, slices added or re-queued): tell the idle workers that
   * subscribed to `schedmsg::wake` to ask for a task now rather than at their next poll. Coalesced per
   * worker: the first call pushes at once, further calls within WAKE_INTERVAL_MS become one push at
   * the end of that window, so a burst of calls costs each worker at most two pushes. Returns how many
   * workers will be woken.
   */
  wakeWorkers(): number {
    let n = 0;
    for (const sub of this.#schedmsg) {
      if (sub.label !== WAKE_LABEL || !sub.session.isOpen) continue;
      n++;
      this.#wake(sub);
    }
    return n;
  }

  #wake(sub: Subscription): void {
    sub.wake ??= { last: Number.NEGATIVE_INFINITY };
    const state = sub.wake;
    if (state.timer) return; // a push at the end of the window is already due
    const push = () => {
      state.timer = undefined;
      state.last = systemClock.now();
      void this.#push(sub, WAKE_LABEL, { command: 'wake', payload: {} });
    };
    const wait = state.last + WAKE_INTERVAL_MS - systemClock.now();
    if (wait <= 0) {
      push();
      return;
    }
    state.timer = systemClock.setTimeout(push, wait);
  }

  async #replay(sub: Subscription): Promise<void> {
    if (!sub.job) return;
    for (const ev of await this.store.pendingEvents(sub.job))
      if (ev.name === sub.label) await this.#deliverReliable(sub.job, ev.name, ev);
  }

  /**
   * Remember a running onSubscribe hook (results the subscriber missed, pushed again): the job's
   * reliable events for the same session wait for it, so a `stop` never overtakes them — dcp-client
   * would back-fill those results itself at `stop`, emitting each with the next slice's value.
   */
  #whileRunning(session: DcpSession, job: string, running: Promise<void>): void {
    let byJob = this.#hooksRunning.get(session);
    if (!byJob) {
      byJob = new Map();
      this.#hooksRunning.set(session, byJob);
    }
    const prev = byJob.get(job);
    const all: Promise<void> = (prev ? Promise.all([prev, running]) : running).then(
      () => {},
      () => {},
    );
    byJob.set(job, all);
    void all.then(() => {
      if (byJob.get(job) === all) byJob.delete(job);
      if (!byJob.size && this.#hooksRunning.get(session) === byJob) this.#hooksRunning.delete(session);
    });
  }

  /** A reliable event to `sub` goes out once the hooks still pushing to its session and job are done. */
  async #pushReliable(sub: Subscription, eventName: string, data: Record<string, unknown>): Promise<boolean> {
    const running = sub.job ? this.#hooksRunning.get(sub.session)?.get(sub.job) : undefined;
    if (running) await running;
    return this.#push(sub, eventName, data);
  }

  /** Pushes in the order asked, through the session's outbox; true once the subscriber took it. */
  #push(sub: Subscription, eventName: string, data: Record<string, unknown>): Promise<boolean> {
    if (!sub.session.isOpen) return Promise.resolve(false);
    let outbox = this.#outboxes.get(sub.session);
    if (!outbox) {
      outbox = new EventOutbox((p) => this.#send(p), this.window);
      this.#outboxes.set(sub.session, outbox);
    }
    const job = sub.job;
    if (!job) return outbox.push({ sub, eventName, data });
    const session = sub.session;
    let bySession = this.#backlog.get(job);
    if (!bySession) {
      bySession = new Map();
      this.#backlog.set(job, bySession);
    }
    bySession.set(session, (bySession.get(session) ?? 0) + 1);
    const counts = bySession;
    return outbox.push({ sub, eventName, data }).finally(() => {
      const before = this.backlog(job);
      const left = (counts.get(session) ?? 1) - 1;
      if (left > 0) counts.set(session, left);
      else counts.delete(session);
      if (!counts.size && this.#backlog.get(job) === counts) this.#backlog.delete(job);
      // the job was braked and its client caught up: idle workers may take its slices again
      if (before >= this.#brake && this.backlog(job) < this.#brake) this.wakeWorkers();
    });
  }

  /** The task distributor skips a job whose backlog reaches `limit`; workers are woken below it. */
  brakeAt(limit: number): void {
    this.#brake = limit;
  }

  /**
   * Events pushed to the job's connected subscribers and not answered yet (the task distributor's
   * brake). A subscriber whose connection is down does not count: a client that went away must not
   * hold its job up while its session lingers.
   */
  backlog(job: string): number {
    let n = 0;
    for (const [session, count] of this.#backlog.get(job) ?? [])
      if (session.state === 'established') n += count;
    return n;
  }

  async #send({ sub, eventName, data }: Push): Promise<boolean> {
    // unsubscribed or disconnected while it waited: the token is no longer the subscriber's
    if (!sub.session.isOpen || !this.#bySession.get(sub.session)?.has(sub)) return false;
    const eventId = `${this.clock.now().toString(36)}-${++this.#eventSeq}-${this.random.string(8)}`;
    try {
      await sub.session.request('event', {
        token: sub.token,
        event: { eventId, data: { eventName, ...data } },
      });
      return true;
    } catch (error) {
      // a result or reliable event that is not taken is pushed again later (feed, replay): say why
      const log = eventName === 'result' || RELIABLE_EVENTS.has(eventName) ? 'info' : 'debug';
      this.logger[log]({ err: String(error), eventName, job: sub.job }, 'event not delivered');
      return false;
    }
  }

  #remove(sub: Subscription): void {
    sub.wake?.timer?.cancel();
    if (sub.job) {
      const set = this.#byJob.get(sub.job);
      set?.delete(sub);
      if (set && !set.size) this.#byJob.delete(sub.job);
    }
    this.#schedmsg.delete(sub);
    this.#bySession.get(sub.session)?.delete(sub);
  }

  #drop(session: DcpSession): void {
    for (const sub of this.#bySession.get(session) ?? []) this.#remove(sub);
    this.#bySession.delete(session);
    this.#outboxes.get(session)?.close();
    this.#outboxes.delete(session);
    this.#hooksRunning.delete(session);
  }
}
