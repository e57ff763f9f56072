import type { ClockTimer, DcpSession } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';

/**
 * Every handed-out slice has a lease. A worker that talks to us (task requests, status, results)
 * keeps its leases alive up to `maxLeaseMs`; a silent one loses them after `leaseMs`; a worker whose
 * connection drops and does not come back within a few seconds loses them at once. Expired leases
 * are swept back into the queue every `sweepMs`. All of it runs on the context's Clock (virtual time:
 * `dcp-emu time advance` past a lease re-queues its slices at once).
 */
export class LeaseKeeper {
  #sweeper?: ClockTimer;
  readonly #watched = new WeakSet<DcpSession>();
  readonly #downTimers = new Map<string, ClockTimer>();
  readonly #workers = new Map<string, ConnectedWorker>();

  constructor(private readonly ctx: SchedulerContext) {}

  start(): void {
    this.#sweeper ??= this.ctx.clock.setInterval(() => void this.sweep(), this.ctx.tuning.sweepMs);
  }

  stop(): void {
    this.#sweeper?.cancel();
    this.#sweeper = undefined;
    for (const t of this.#downTimers.values()) t.cancel();
    this.#downTimers.clear();
  }

  /** Slices went back in the queue: idle workers may take them. */
  requeued(): void {
    this.ctx.events.wakeWorkers();
  }

  /** The worker is alive: renew its leases; watch its session for a drop; remember what it said. */
  alive(worker: string, session?: DcpSession, info?: WorkerInfo): void {
    const now = this.ctx.clock.now();
    const known = this.#workers.get(worker);
    if (info || known)
      this.#workers.set(worker, {
        ...(known ?? {
          worker,
          address: info?.address ?? '',
          cores: 0,
          groups: [],
          since: new Date(now).toISOString(),
        }),
        ...info,
        connected: true,
        lastSeen: new Date(now).toISOString(),
      });
    const pending = this.#downTimers.get(worker);
    if (pending) {
      pending.cancel();
      this.#downTimers.delete(worker);
    }
    if (session && !this.#watched.has(session)) {
      this.#watched.add(session);
      const down = () => this.#down(worker);
      session.on('linkDown', down);
      session.on('closed', down);
      session.on('linkUp', () => {
        this.#downTimers.get(worker)?.cancel();
        this.#downTimers.delete(worker);
      });
    }
    this.ctx.store.seen(worker, now);
  }

  /**
   * Workers that asked for work: connected ones, and those gone within the last lease period (shown
   * as not connected), most recently seen first.
   */
  connected(): ConnectedWorker[] {
    const cutoff = this.ctx.clock.now() - this.ctx.tuning.leaseMs;
    for (const [k, w] of this.#workers)
      if (!w.connected && Date.parse(w.lastSeen) < cutoff) this.#workers.delete(k);
    return [...this.#workers.values()].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }

  #down(worker: string): void {
    const w = this.#workers.get(worker);
    if (w) this.#workers.set(worker, { ...w, connected: false });
    if (this.#downTimers.has(worker)) return;
    const grace = Math.min(5_000, this.ctx.tuning.leaseMs);
    const t = this.ctx.clock.setTimeout(() => {
      this.#downTimers.delete(worker);
      const n = this.ctx.store.requeueWorker(worker, this.ctx.clock.now());
      if (n) {
        this.ctx.logger.info({ worker, slices: n }, 'worker gone; slices re-queued');
        this.requeued();
      }
    }, grace);
    this.#downTimers.set(worker, t);
  }

  sweep(): number {
    const n = this.ctx.store.requeueExpired(this.ctx.clock.now());
    if (n) {
      this.ctx.logger.info({ slices: n }, 'expired leases re-queued');
      this.requeued();
    }
    return n;
  }
}

/** What a worker told us when it last asked for work. */
export interface WorkerInfo {
  /** its identity address (the DCP peer) */
  address: string;
  /** the address its earnings go to */
  paymentAddress?: string;
  /** cores it offered (target load) */
  cores: number;
  /** compute groups it proved membership of */
  groups: string[];
}

export interface ConnectedWorker extends WorkerInfo {
  /** `<address>` or `<address>/<worker id>` */
  worker: string;
  connected: boolean;
  since: string;
  lastSeen: string;
}
