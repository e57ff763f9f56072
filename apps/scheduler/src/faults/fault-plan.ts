import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { Clock } from '../ports/clock';

const address = z.string().min(1).max(200);
const ms = z.number().int().min(0).max(3_600_000);

/** What every fault may say about where and how often it acts. */
const scope = {
  /** only this job (its id) */
  job: z.string().min(1).max(200).optional(),
  /** only this worker: its identity address, payment address or worker id (any case) */
  worker: address.optional(),
  /** how many times it acts before it is spent (default 1: one-shot); "always": until cleared */
  times: z.union([z.number().int().min(1).max(1_000_000), z.literal('always')]).default(1),
  /** chance (0…1) that a matching event is hit, drawn from the fault's own seeded generator */
  probability: z.number().min(0).max(1).default(1),
  /** seed of that generator (default 1): the same seed and events hit the same events */
  seed: z.number().int().min(0).max(0xffffffff).default(1),
};

/**
 * A fault as `POST /admin/faults` takes it. Each kind acts at one hook point of the scheduler:
 *
 * - `crashWorker`: once `afterSlices` results of its scope were accepted, the worker that sent the last
 *   one is sent SchedMsg `kill` (our worker and dcp-worker 3.3.19 exit with code 130) and its DCP
 *   sessions are closed (`how: 'kill'`, default), or only its sessions are closed (`how: 'drop'`: it
 *   reconnects); the slices it held go back in the queue at once and are computed again.
 * - `dropResult`: a result is answered as accepted but thrown away; its slice goes back in the queue
 *   (`keepLease`: only when its lease runs out, as a result lost on the way would).
 * - `delayResult`: a result is held `ms` before it is processed (slow slices).
 * - `corruptResult`: a result's value is replaced by `value` (default the string
 *   "dcp-emu: corrupted result") before it is stored: the client gets the wrong value.
 * - `delayTask`: a task that hands out slices (of `job`, when scoped) is answered `ms` late.
 * - `refuseTask`: `requestTask` gets no work (`answer: 'noWork'`, default; scoped to a job: no slices of
 *   that job) or an error (`answer: 'error'`, EPIPE).
 * - `bankDown`: for `durationMs` (default: until cleared) every call of the scheduler to the bank fails as
 *   if the bank were unreachable (ENOBANK): submits are refused, results are still accepted and owed,
 *   payments are settled once the bank is back.
 * - `disconnectClient`: after `afterResults` results (default 1) of the job, the connection of every
 *   client subscribed to it is dropped (dcp-client reconnects and resumes its session).
 */
export const faultSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('crashWorker'),
    afterSlices: z.number().int().min(1).max(1_000_000).default(1),
    how: z.enum(['kill', 'drop']).default('kill'),
    ...scope,
  }),
  z.object({ kind: z.literal('dropResult'), keepLease: z.boolean().optional(), ...scope }),
  z.object({ kind: z.literal('delayResult'), ms, ...scope }),
  z.object({ kind: z.literal('corruptResult'), value: z.unknown().optional(), ...scope }),
  z.object({ kind: z.literal('delayTask'), ms, ...scope }),
  z.object({
    kind: z.literal('refuseTask'),
    answer: z.enum(['noWork', 'error']).default('noWork'),
    ...scope,
  }),
  z.object({
    kind: z.literal('bankDown'),
    durationMs: z.number().int().min(1).max(86_400_000).optional(),
  }),
  z.object({
    kind: z.literal('disconnectClient'),
    job: z.string().min(1).max(200),
    afterResults: z.number().int().min(1).max(1_000_000).default(1),
    times: scope.times,
  }),
]);
export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultKind = FaultSpec['kind'];

/** A fault as the REST API lists it. */
export type FaultView = FaultSpec & {
  id: string;
  /** how many times it acted */
  fired: number;
  /** spent (acted `times` times, or its bank outage ended); kept in the list until cleared */
  spent: boolean;
  createdAt: string;
  /** bankDown with a duration: when the bank comes back */
  until?: string;
};

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
