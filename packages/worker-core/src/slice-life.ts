import type { SliceState } from './options';

/**
 * The life of one slice in this worker, as ONE state machine: every change of a slice's state is a
 * `transition(from, event)` through the table below; anything else is an `IllegalSliceTransition`.
 *
 *   queued ──start──▶ preparing ──assign──▶ running ──submit──▶ submitting ──accept/refuse──▶ done
 *     ▲                 │  │                  │  │
 *     └────requeue──────┘  │                  │  └──requeue (sandbox lost, work.reject retry)──▶ queued
 *                          └─fail/return─▶ done ◀─fail/return─┘
 *   queued ──return──▶ done
 *
 * - queued: fetched, waiting for a sandbox (its datum downloads meanwhile)
 * - preparing: taken by the runner: job artifacts, datum, a sandbox assigned to the job
 * - running: in a sandbox (the sandbox is the slice's until the work ends)
 * - submitting: the result is sent, the scheduler's answer awaited (the sandbox works on)
 * - done: accepted, refused, failed or returned — no longer held (terminal)
 */
export type SliceLife = 'queued' | 'preparing' | 'running' | 'submitting' | 'done';

export type SliceEvent =
  /** the runner takes a queued slice (room in the sandboxes) */
  | 'start'
  /** a sandbox assigned to the job is the slice's now */
  | 'assign'
  /** back to the queue: no sandbox can be opened yet, the sandbox died under it, or work.reject retries */
  | 'requeue'
  /** the work ended with a result (a value or the work function's error): sent to the scheduler */
  | 'submit'
  /** the scheduler accepted the result */
  | 'accept'
  /** the scheduler refused the result: returned */
  | 'refuse'
  /** it cannot run here (datum, assign, work.reject, sandbox failure): returned with the reason */
  | 'fail'
  /** handed back unrun or abandoned (stop, job removed, job artifacts unavailable) */
  | 'return';

interface LifeState {
  /** what the UI shows (`SliceView.state`); `undefined` for a slice no longer held */
  view: SliceState | undefined;
  /** whether the slice counts against the sandboxes (the runner's `working`) */
  working: boolean;
  on: Readonly<Partial<Record<SliceEvent, SliceLife>>>;
}

/** The table of states: each state's view and the events it accepts, with their target states. */
export const SLICE_LIFE: Readonly<Record<SliceLife, LifeState>> = {
  queued: { view: 'queued', working: false, on: { start: 'preparing', return: 'done' } },
  preparing: {
    view: 'working',
    working: true,
    on: { assign: 'running', requeue: 'queued', fail: 'done', return: 'done' },
  },
  running: {
    view: 'working',
    working: true,
    on: { submit: 'submitting', requeue: 'queued', fail: 'done', return: 'done' },
  },
  submitting: { view: 'submitting', working: false, on: { accept: 'done', refuse: 'done' } },
  done: { view: undefined, working: false, on: {} },
};

export const SLICE_LIVES = Object.keys(SLICE_LIFE) as SliceLife[];
export const SLICE_EVENTS: readonly SliceEvent[] = [
  'start',
  'assign',
  'requeue',
  'submit',
  'accept',
  'refuse',
  'fail',
  'return',
];

export class IllegalSliceTransition extends Error {
  constructor(
    readonly from: SliceLife,
    readonly event: SliceEvent,
  ) {
    super(`slice: no transition '${event}' from '${from}'`);
    this.name = 'IllegalSliceTransition';
  }
}

/** The state after `event` in state `from`; throws `IllegalSliceTransition` if the table has none. */
export function transition(from: SliceLife, event: SliceEvent): SliceLife {
  const to = SLICE_LIFE[from].on[event];
  if (!to) throw new IllegalSliceTransition(from, event);
  return to;
}

/** Whether `event` is legal in state `from`. */
export function canTransition(from: SliceLife, event: SliceEvent): boolean {
  return SLICE_LIFE[from].on[event] !== undefined;
}
