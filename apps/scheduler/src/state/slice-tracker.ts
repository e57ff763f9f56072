/** A slice nobody holds: never handed out yet, or back in the queue. */
const PENDING = 0;
/** Handed out to a worker: it holds a lease. */
const LEASED = 1;
/** Its result is in. */
const DONE = 2;

/** Who holds a slice and since when (ms). */
export interface Lease {
  worker: string;
  leasedAt: number;
}

/**
 * The life of every slice of one running job, compactly: one byte of status per slice, a queue of
 * slices that came back, the leases, and failed-attempt counts only for slices that failed. Slices that
 * were never handed out cost nothing but their status byte — a range job of a million slices is a 1 MB
 * array — and array inputs are dropped as their results arrive.
 */
export class SliceTracker {
  #status: Uint8Array;
  /** times each slice was handed out (saturating at 255) */
  #attempts: Uint8Array;
  #size: number;
  /** the next slice number never handed out */
  #fresh = 1;
  #requeued: number[] = [];
  #done = 0;
  /** array jobs: inputs by slice number (index n − 1), cleared once the slice is done */
  readonly #inputs?: (string | null | undefined)[];
  readonly leases = new Map<number, Lease>();
  readonly errors = new Map<number, number>();
  maxErrors = 0;

  constructor(size: number, array: boolean) {
    this.#size = size;
    this.#status = new Uint8Array(Math.max(16, size));
    this.#attempts = new Uint8Array(this.#status.length);
    if (array) this.#inputs = [];
  }

  get size(): number {
    return this.#size;
  }

  get done(): number {
    return this.#done;
  }

  /** Slices that can be handed out now. */
  get available(): number {
    return this.#size - this.#done - this.leases.size;
  }

  counts(): { queued: number; leased: number; done: number } {
    return { queued: this.available, leased: this.leases.size, done: this.#done };
  }

  /** More slices exist now (uploaded, or a range job's size). */
  grow(size: number, inputs?: (string | null)[], first = this.#size + 1): void {
    if (size > this.#status.length) {
      const next = new Uint8Array(Math.max(size, this.#status.length * 2));
      next.set(this.#status);
      this.#status = next;
      const attempts = new Uint8Array(next.length);
      attempts.set(this.#attempts);
      this.#attempts = attempts;
    }
    if (inputs && this.#inputs)
      for (const [k, input] of inputs.entries()) this.#inputs[first - 1 + k] = input;
    this.#size = Math.max(this.#size, size);
  }

  /** Rebuilding from the database: this slice is already done. */
  restoreDone(n: number): void {
    if (n < 1 || n > this.#size || this.#status[n - 1] === DONE) return;
    this.#status[n - 1] = DONE;
    this.#done++;
    if (this.#inputs) this.#inputs[n - 1] = undefined;
  }

  restoreErrors(n: number, errors: number): void {
    if (errors <= 0) return;
    this.errors.set(n, errors);
    this.maxErrors = Math.max(this.maxErrors, errors);
  }

  attempts(n: number): number {
    return this.#attempts[n - 1] ?? 0;
  }

  input(n: number): string | null {
    return this.#inputs?.[n - 1] ?? null;
  }

  status(n: number): 'queued' | 'leased' | 'done' {
    const s = this.#status[n - 1];
    return s === DONE ? 'done' : s === LEASED ? 'leased' : 'queued';
  }

  /** Lease up to `max` slices: returned ones first, then fresh ones in order. */
  take(max: number, worker: string, now: number): number[] {
    const out: number[] = [];
    while (out.length < max && this.#requeued.length) {
      const n = this.#requeued.pop() as number;
      if (this.#status[n - 1] === PENDING) this.#lease(n, worker, now, out);
    }
    while (out.length < max && this.#fresh <= this.#size) {
      const n = this.#fresh++;
      if (this.#status[n - 1] === PENDING) this.#lease(n, worker, now, out);
    }
    return out;
  }

  #lease(n: number, worker: string, now: number, out: number[]): void {
    this.#status[n - 1] = LEASED;
    this.#attempts[n - 1] = Math.min(255, (this.#attempts[n - 1] ?? 0) + 1);
    this.leases.set(n, { worker, leasedAt: now });
    out.push(n);
  }

  /** A leased slice goes back in the queue (optionally only if `worker` holds it); true if it did. */
  release(n: number, worker?: string): boolean {
    const lease = this.leases.get(n);
    if (!lease || (worker !== undefined && lease.worker !== worker)) return false;
    this.leases.delete(n);
    this.#status[n - 1] = PENDING;
    this.#requeued.push(n);
    return true;
  }

  /** One more failed attempt of slice n; returns its count. */
  failed(n: number): number {
    const count = (this.errors.get(n) ?? 0) + 1;
    this.errors.set(n, count);
    this.maxErrors = Math.max(this.maxErrors, count);
    return count;
  }

  /** The slice's result is in: false if it was done already or does not exist. */
  complete(n: number): boolean {
    if (n < 1 || n > this.#size || this.#status[n - 1] === DONE) return false;
    this.leases.delete(n);
    this.#status[n - 1] = DONE;
    this.#done++;
    if (this.#inputs) this.#inputs[n - 1] = undefined;
    return true;
  }
}
