import type { JobState } from './jobs';
import type { LineSandbox } from './line-sandbox';
import type { SliceMessage } from './messages';
import type { SliceView } from './options';
import { SLICE_LIFE, type SliceEvent, type SliceLife, transition } from './slice-life';

/** One slice held by this worker. Its `life` changes only through `SliceBook.move` (the state machine). */
export interface SliceRecord {
  readonly job: JobState;
  readonly message: SliceMessage;
  readonly sliceNumber: number;
  readonly authorizationMessage: Record<string, unknown>;
  /** the datum, downloading since the slice arrived */
  readonly datum: Promise<{ value: unknown; bytes: number }>;
  readonly life: SliceLife;
  progress: number | undefined;
  /** the sandbox running it (state `running` only) */
  sandbox: LineSandbox | undefined;
  startedAt: number | undefined;
  /** times it was put in a sandbox */
  attempts: number;
  fetchBytes: number;
}

type Counts = Record<SliceLife, number>;

/**
 * The slices this worker holds (every state but `done`), in arrival order, with a count per state.
 * A slice that reaches `done` leaves the book; when the book empties, `whenEmpty` waiters run.
 */
export class SliceBook {
  readonly #slices: SliceRecord[] = [];
  readonly #counts: Counts = { queued: 0, preparing: 0, running: 0, submitting: 0, done: 0 };
  #emptyWaiters: Array<() => void> = [];

  /** A new slice, `queued`. */
  add(fields: Omit<SliceRecord, 'life' | 'progress' | 'sandbox' | 'startedAt' | 'attempts' | 'fetchBytes'>) {
    const slice: SliceRecord = {
      ...fields,
      life: 'queued',
      progress: undefined,
      sandbox: undefined,
      startedAt: undefined,
      attempts: 0,
      fetchBytes: 0,
    };
    this.#slices.push(slice);
    this.#counts.queued++;
    return slice;
  }

  /**
   * Moves `slice` by `event` (throws `IllegalSliceTransition` when the table has no such move). A slice
   * that leaves `running` lets go of its sandbox; one that reaches `done` leaves the book.
   */
  move(slice: SliceRecord, event: SliceEvent): SliceLife {
    const from = slice.life;
    const to = transition(from, event);
    (slice as { life: SliceLife }).life = to;
    this.#counts[from]--;
    this.#counts[to]++;
    if (from === 'running') slice.sandbox = undefined;
    if (to === 'done') {
      const i = this.#slices.indexOf(slice);
      if (i >= 0) this.#slices.splice(i, 1);
      if (this.#slices.length === 0) for (const w of this.#emptyWaiters.splice(0)) w();
    }
    return to;
  }

  /** Whether the slice is still this worker's (not `done`). */
  holds(slice: SliceRecord): boolean {
    return slice.life !== 'done';
  }

  has(jobId: string, sliceNumber: number): boolean {
    return this.#slices.some((s) => s.job.id === jobId && s.sliceNumber === sliceNumber);
  }

  holdsJob(job: JobState): boolean {
    return this.#slices.some((s) => s.job === job);
  }

  /** The held slices, in arrival order (a copy). */
  list(): SliceRecord[] {
    return [...this.#slices];
  }

  /** The held slices in `life`. */
  inState(life: SliceLife): SliceRecord[] {
    return this.#slices.filter((s) => s.life === life);
  }

  /** The first held slice in `life`, in arrival order. */
  first(life: SliceLife): SliceRecord | undefined {
    return this.#slices.find((s) => s.life === life);
  }

  get size(): number {
    return this.#slices.length;
  }

  count(life: SliceLife): number {
    return this.#counts[life];
  }

  /** Slices taking a sandbox's place (`preparing` + `running`: the UI's `working`). */
  get working(): number {
    return this.#counts.preparing + this.#counts.running;
  }

  /** Runs `waiter` once the book is empty (now, if it is). */
  whenEmpty(waiter: () => void): void {
    if (this.#slices.length === 0) waiter();
    else this.#emptyWaiters.push(waiter);
  }

  /** Drops a `whenEmpty` waiter that is no longer wanted. */
  cancelWaiter(waiter: () => void): void {
    this.#emptyWaiters = this.#emptyWaiters.filter((w) => w !== waiter);
  }
}

/** A slice as the UI sees it. */
export function view(s: SliceRecord, life: SliceLife = s.life): SliceView {
  return {
    jobId: s.job.id,
    jobName: s.job.name,
    sliceNumber: s.sliceNumber,
    state: SLICE_LIFE[life].view ?? 'submitting',
    progress: s.progress,
    sandboxId: s.sandbox?.id,
    startedAt: s.startedAt,
  };
}
