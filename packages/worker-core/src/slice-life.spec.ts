import { describe, expect, it } from 'vitest';
import type { JobState } from './jobs';
import type { LineSandbox } from './line-sandbox';
import { SliceBook, view } from './slice-book';
import {
  canTransition,
  IllegalSliceTransition,
  SLICE_EVENTS,
  SLICE_LIFE,
  SLICE_LIVES,
  type SliceEvent,
  type SliceLife,
  transition,
} from './slice-life';

/** Every legal move of a slice, written out once more: the table must say exactly this. */
const LEGAL: [SliceLife, SliceEvent, SliceLife][] = [
  ['queued', 'start', 'preparing'],
  ['queued', 'return', 'done'],
  ['preparing', 'assign', 'running'],
  ['preparing', 'requeue', 'queued'],
  ['preparing', 'fail', 'done'],
  ['preparing', 'return', 'done'],
  ['running', 'submit', 'submitting'],
  ['running', 'requeue', 'queued'],
  ['running', 'fail', 'done'],
  ['running', 'return', 'done'],
  ['submitting', 'accept', 'done'],
  ['submitting', 'refuse', 'done'],
];

const job = (id = 'job1'): JobState => ({
  id,
  message: {} as JobState['message'],
  name: `name of ${id}`,
  ready: Promise.resolve({ workFunction: '', arguments: [], bytes: 0 }),
  idle: [],
  rejectRetries: 0,
  removed: false,
});

function addSlice(book: SliceBook, j = job(), sliceNumber = 1) {
  return book.add({
    job: j,
    message: { sliceNumber } as never,
    sliceNumber,
    authorizationMessage: {},
    datum: Promise.resolve({ value: sliceNumber, bytes: 1 }),
  });
}

/** A book holding one slice in `life`, reached by legal moves only. */
function sliceIn(life: SliceLife) {
  const book = new SliceBook();
  const slice = addSlice(book);
  const path: Record<SliceLife, SliceEvent[]> = {
    queued: [],
    preparing: ['start'],
    running: ['start', 'assign'],
    submitting: ['start', 'assign', 'submit'],
    done: ['return'],
  };
  for (const e of path[life]) book.move(slice, e);
  expect(slice.life).toBe(life);
  return { book, slice };
}

describe('the slice state machine', () => {
  it('has exactly the legal moves listed, from the states listed', () => {
    expect(SLICE_LIVES).toEqual(['queued', 'preparing', 'running', 'submitting', 'done']);
    const table: [SliceLife, SliceEvent, SliceLife][] = [];
    for (const from of SLICE_LIVES)
      for (const [event, to] of Object.entries(SLICE_LIFE[from].on))
        table.push([from, event as SliceEvent, to]);
    expect(table.sort()).toEqual([...LEGAL].sort());
  });

  it.each(LEGAL)('%s --%s--> %s', (from, event, to) => {
    expect(canTransition(from, event)).toBe(true);
    expect(transition(from, event)).toBe(to);
    // and through the book, which counts the states and keeps only the held slices
    const { book, slice } = sliceIn(from);
    if (from === 'done') return;
    expect(book.count(from)).toBe(1);
    expect(book.move(slice, event)).toBe(to);
    expect(slice.life).toBe(to);
    expect(book.count(to)).toBe(1);
    if (from !== to) expect(book.count(from)).toBe(0);
    expect(book.size).toBe(to === 'done' ? 0 : 1);
    expect(book.holds(slice)).toBe(to !== 'done');
  });

  const illegal = SLICE_LIVES.flatMap((from) =>
    SLICE_EVENTS.filter((e) => !LEGAL.some(([f, ev]) => f === from && ev === e)).map(
      (e) => [from, e] as [SliceLife, SliceEvent],
    ),
  );

  it('rejects every other move (all moves out of done among them)', () => {
    expect(illegal.length).toBe(SLICE_LIVES.length * SLICE_EVENTS.length - LEGAL.length);
    expect(illegal.filter(([f]) => f === 'done').length).toBe(SLICE_EVENTS.length);
  });

  it.each(illegal)('rejects %s --%s-->', (from, event) => {
    expect(canTransition(from, event)).toBe(false);
    expect(() => transition(from, event)).toThrow(IllegalSliceTransition);
    const { book, slice } = sliceIn(from);
    const size = book.size;
    const err = (() => {
      try {
        book.move(slice, event);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(IllegalSliceTransition);
    expect(err).toMatchObject({ from, event });
    // nothing changed
    expect(slice.life).toBe(from);
    expect(book.size).toBe(size);
  });

  it('shows preparing and running as working, and counts them against the sandboxes', () => {
    expect(SLICE_LIVES.map((l) => [l, SLICE_LIFE[l].view, SLICE_LIFE[l].working])).toEqual([
      ['queued', 'queued', false],
      ['preparing', 'working', true],
      ['running', 'working', true],
      ['submitting', 'submitting', false],
      ['done', undefined, false],
    ]);
    const book = new SliceBook();
    const j = job();
    const [a, b, c] = [addSlice(book, j, 1), addSlice(book, j, 2), addSlice(book, j, 3)];
    book.move(a, 'start');
    book.move(b, 'start');
    book.move(b, 'assign');
    expect(book.working).toBe(2);
    expect(book.list().map((s) => view(s).state)).toEqual(['working', 'working', 'queued']);
    book.move(b, 'submit');
    expect(book.working).toBe(1);
    expect(view(b).state).toBe('submitting');
    expect(book.first('queued')).toBe(c);
    expect(book.inState('preparing')).toEqual([a]);
  });

  it('a slice leaving running lets go of its sandbox; the last slice done wakes whenEmpty', () => {
    const book = new SliceBook();
    const j = job();
    const a = addSlice(book, j, 1);
    const b = addSlice(book, j, 2);
    let empty = 0;
    book.whenEmpty(() => empty++);
    book.move(a, 'start');
    book.move(a, 'assign');
    a.sandbox = { id: 7 } as LineSandbox;
    expect(view(a).sandboxId).toBe(7);
    book.move(a, 'requeue');
    expect(a.sandbox).toBeUndefined();
    expect(book.has('job1', 1)).toBe(true);
    expect(book.holdsJob(j)).toBe(true);
    book.move(a, 'return');
    expect(empty).toBe(0);
    expect(book.has('job1', 1)).toBe(false);
    book.move(b, 'return');
    expect(empty).toBe(1);
    expect(book.holdsJob(j)).toBe(false);
    book.whenEmpty(() => empty++);
    expect(empty).toBe(2);
  });
});
