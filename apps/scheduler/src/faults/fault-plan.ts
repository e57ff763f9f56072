import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { type FaultKind, type FaultSpec, type FaultView, faultSpec } from '@dcp-emu/contracts';
import type { Clock } from '../ports/clock';

/**
 * A fault as `POST /admin/faults` takes it (`faultSpec` of @dcp-emu/contracts, where each kind's hook
 * point is described) and as the REST API lists it (`FaultView`: the spec plus id, fired, spent…).
 */
export const faultSpecSchema = faultSpec;
export type { FaultKind, FaultSpec, FaultView };

/** Who sent a worker message. */
export interface WorkerRef {
  /** identity address */
  peer: string;
  /** worker id it reported */
  workerId?: string | undefined;
  paymentAddress?: string | undefined;
}

interface Entry {
  id: string;
  spec: FaultSpec;
  fired: number;
  /** events seen towards `afterSlices` / `afterResults` */
  seen: number;
  createdAt: number;
  until?: number;
  spent: boolean;
  random: () => number;
}

/** mulberry32: a small, fast, seedable generator (deterministic fault decisions). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ResultAction =
  | { kind: 'dropResult'; fault: string; keepLease: boolean }
  | { kind: 'delayResult'; fault: string; ms: number }
  | { kind: 'corruptResult'; fault: string; value: unknown };

/** What to do after a result was accepted. */
export interface AfterResult {
  crash?: { fault: string; how: 'kill' | 'drop' };
  disconnect?: { fault: string };
}

export interface TaskPlan {
  /** answer with no work, or fail with this error */
  refuse?: { fault: string; error?: DcpError };
  /** leave these jobs out of the task */
  skipJobs: string[];
  /** delay the answer when it hands out slices of `job` (any job when undefined) */
  delays: { fault: string; ms: number; job?: string | undefined }[];
}

/**
 * The fault plan: faults added over REST, consulted at the scheduler's hook points (task requests,
 * results, the bank port, client connections). `armed` is false while nothing is set, so the hooks
 * cost one property read. Decisions are deterministic: each fault draws from its own seeded generator,
 * only for events in its scope.
 */
export class FaultPlan {
  readonly #entries: Entry[] = [];
  #next = 1;
  /** any fault that may still act */
  armed = false;

  constructor(private readonly clock: Clock) {}

  add(input: unknown): FaultView {
    const spec = faultSpecSchema.parse(input);
    const now = this.clock.now();
    const entry: Entry = {
      id: `f${this.#next++}`,
      spec,
      fired: 0,
      seen: 0,
      createdAt: now,
      spent: false,
      random: seededRandom('seed' in spec ? spec.seed : 1),
    };
    if (spec.kind === 'bankDown' && spec.durationMs !== undefined) entry.until = now + spec.durationMs;
    this.#entries.push(entry);
    this.#rearm();
    return this.#view(entry);
  }

  list(): FaultView[] {
    this.#expire();
    return this.#entries.map((e) => this.#view(e));
  }

  get(id: string): FaultView | undefined {
    const e = this.#entries.find((x) => x.id === id);
    return e && this.#view(e);
  }

  /** Remove one fault; false when there is none with this id. */
  remove(id: string): boolean {
    const i = this.#entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.#entries.splice(i, 1);
    this.#rearm();
    return true;
  }

  /** Remove every fault; returns how many there were. */
  clear(): number {
    const n = this.#entries.length;
    this.#entries.length = 0;
    this.armed = false;
    return n;
  }

  /** `requestTask` of a worker: refused, jobs left out, delays. */
  forTask(worker: WorkerRef): TaskPlan | undefined {
    if (!this.armed) return undefined;
    const plan: TaskPlan = { skipJobs: [], delays: [] };
    for (const e of this.#live()) {
      const s = e.spec;
      if (s.kind !== 'refuseTask' && s.kind !== 'delayTask') continue;
      if (!matchesWorker(s.worker, worker)) continue;
      if (s.kind === 'refuseTask') {
        if (!this.#hit(e)) continue;
        if (s.job) plan.skipJobs.push(s.job);
        else if (!plan.refuse)
          plan.refuse = {
            fault: e.id,
            ...(s.answer === 'error'
              ? { error: new DcpError(DcpErrorCode.EPIPE, `task request refused (dcp-emu fault ${e.id})`) }
              : {}),
          };
      } else plan.delays.push({ fault: e.id, ms: s.ms, job: s.job });
    }
    return plan.refuse || plan.skipJobs.length || plan.delays.length ? plan : undefined;
  }

  /** A delayTask fault delayed a task that handed out slices: count it. */
  taskDelayed(fault: string): boolean {
    const e = this.#entries.find((x) => x.id === fault);
    return e ? this.#hit(e) : false;
  }

  /** A result arrives: dropped, delayed or corrupted (the first fault in order that hits). */
  forResult(worker: WorkerRef, job: string): ResultAction | undefined {
    if (!this.armed) return undefined;
    for (const e of this.#live()) {
      const s = e.spec;
      if (s.kind !== 'dropResult' && s.kind !== 'delayResult' && s.kind !== 'corruptResult') continue;
      if ((s.job && s.job !== job) || !matchesWorker(s.worker, worker) || !this.#hit(e)) continue;
      if (s.kind === 'dropResult') return { kind: s.kind, fault: e.id, keepLease: s.keepLease === true };
      if (s.kind === 'delayResult') return { kind: s.kind, fault: e.id, ms: s.ms };
      return { kind: s.kind, fault: e.id, value: s.value ?? 'dcp-emu: corrupted result' };
    }
    return undefined;
  }

  /** A result was accepted: a worker to crash, clients to disconnect. */
  afterResult(worker: WorkerRef, job: string): AfterResult | undefined {
    if (!this.armed) return undefined;
    const out: AfterResult = {};
    for (const e of this.#live()) {
      const s = e.spec;
      if (s.kind === 'crashWorker') {
        if ((s.job && s.job !== job) || !matchesWorker(s.worker, worker)) continue;
        if (++e.seen < s.afterSlices) continue;
        e.seen = 0;
        if (!out.crash && this.#hit(e)) out.crash = { fault: e.id, how: s.how };
      } else if (s.kind === 'disconnectClient') {
        if (s.job !== job || ++e.seen < s.afterResults) continue;
        e.seen = 0;
        if (!out.disconnect && this.#hit(e)) out.disconnect = { fault: e.id };
      }
    }
    return out.crash || out.disconnect ? out : undefined;
  }

  /** The bank port is about to be called: the error of an outage, if one is on. */
  bankFailure(): DcpError | undefined {
    if (!this.armed) return undefined;
    for (const e of this.#live()) {
      if (e.spec.kind !== 'bankDown') continue;
      if (e.fired === 0) e.fired = 1;
      return new DcpError(
        DcpErrorCode.ENOBANK,
        `the bank cannot be reached (dcp-emu fault ${e.id}: bank down${e.until ? ` until ${new Date(e.until).toISOString()}` : ''})`,
      );
    }
    return undefined;
  }

  /** Whether a fault hits this event (probability), counting it and spending it after `times`. */
  #hit(e: Entry): boolean {
    const s = e.spec;
    const p = 'probability' in s ? s.probability : 1;
    if (p < 1 && e.random() >= p) return false;
    e.fired++;
    const times = 'times' in s ? s.times : 'always';
    if (times !== 'always' && e.fired >= times) {
      e.spent = true;
      this.#rearm();
    }
    return true;
  }

  #live(): Entry[] {
    this.#expire();
    return this.#entries.filter((e) => !e.spent);
  }

  #expire(): void {
    const now = this.clock.now();
    let changed = false;
    for (const e of this.#entries)
      if (!e.spent && e.until !== undefined && now >= e.until) {
        e.spent = true;
        changed = true;
      }
    if (changed) this.#rearm();
  }

  #rearm(): void {
    this.armed = this.#entries.some((e) => !e.spent);
  }

  #view(e: Entry): FaultView {
    return {
      ...e.spec,
      id: e.id,
      fired: e.fired,
      spent: e.spent,
      createdAt: new Date(e.createdAt).toISOString(),
      ...(e.until !== undefined ? { until: new Date(e.until).toISOString() } : {}),
    };
  }
}

function matchesWorker(wanted: string | undefined, w: WorkerRef): boolean {
  if (!wanted) return true;
  const x = wanted.toLowerCase();
  return (
    w.peer.toLowerCase() === x || w.workerId?.toLowerCase() === x || w.paymentAddress?.toLowerCase() === x
  );
}

export const FAULT_PLAN = Symbol('FAULT_PLAN');
