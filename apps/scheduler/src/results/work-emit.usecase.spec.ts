import { DcpErrorCode, Identity, kvinFor } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, rangeJob, refusal, type UseCaseHarness, viaRegistry } from '../usecase-harness.test';
import { workEmitSchema } from './work-emit.usecase';

const client = Identity.random().address;
const payer = Identity.random().address;

describe("WorkEmit: a worker's sandbox events to the client (SQLite job store, real event router)", () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('j-1', payer, 3), client, 5, true);
  });
  afterAll(() => h?.close());

  const emit = (data: unknown) => viaRegistry(workEmitSchema, data, (d) => h.core.workEmit.execute(d));
  const recent = () => h.ctx.events.recent('j-1').map((e) => [e.name, e.data]);

  it('refuses malformed events with EINVAL and tells the client nothing', async () => {
    for (const bad of [
      { job: 'j-1', payload: {} },
      { eventName: 'console', payload: {} },
      { eventName: 'console', job: 'j-1', slice: 1.5 },
      { eventName: 'console', job: 'j-1', payload: 'hi' },
    ])
      expect((await refusal(emit(bad))).code, JSON.stringify(bad)).toBe(DcpErrorCode.EINVAL);
    expect(recent()).toEqual([]);
  });

  it('an event of an unknown job is answered and dropped', async () => {
    expect(await emit({ eventName: 'console', job: 'nope', payload: { message: 'x' } })).toEqual({
      ok: true,
    });
    expect(h.ctx.events.recent('nope')).toEqual([]);
  });

  it('turns console, error, custom and other events into the client events, with their slice', async () => {
    expect(
      await emit({
        eventName: 'console',
        job: 'j-1',
        slice: 1,
        payload: { level: 'warn', message: kvinFor(5).marshal('careful') },
      }),
    ).toEqual({
      ok: true,
    });
    await emit({ eventName: 'console', job: 'j-1', slice: 1, payload: {} });
    await emit({
      eventName: 'error',
      job: 'j-1',
      slice: 2,
      payload: { name: 'TypeError', message: 'bad', stack: 's', code: 'EX', timestamp: 7, extra: 'dropped' },
    });
    await emit({
      eventName: 'custom',
      job: 'j-1',
      slice: 3,
      payload: { customEvent: 'tick', data: { n: 1 } },
    });
    await emit({ eventName: 'progress', job: 'j-1', slice: 3, payload: { value: 0.5 } });
    expect(recent()).toEqual([
      [
        'console',
        { job: 'j-1', sliceNumber: 1, level: 'warn', message: kvinFor(5).marshal('careful'), same: 1 },
      ],
      ['console', { job: 'j-1', sliceNumber: 1, level: 'log', same: 1 }],
      [
        'error',
        {
          job: 'j-1',
          sliceNumber: 2,
          name: 'TypeError',
          message: 'bad',
          stack: 's',
          code: 'EX',
          timestamp: 7,
        },
      ],
      ['custom', { job: 'j-1', sliceNumber: 3, customEvent: 'tick', data: { n: 1 } }],
      ['progress', { job: 'j-1', sliceNumber: 3, value: 0.5 }],
    ]);
    // events are told, not stored: the job itself is unchanged
    expect(await h.ctx.store.events('j-1')).toEqual([]);
    expect((await h.ctx.store.getJob('j-1'))?.status).toBe('running');
  });

  // (it used to escape as EINTERNAL, logged as a handler failure)
  it('refuses a console message that is not marshalled KVIN with EINVAL', async () => {
    const bad = { eventName: 'console', job: 'j-1', slice: 1, payload: { message: 'plain text' } };
    expect((await refusal(emit(bad))).code).toBe(DcpErrorCode.EINVAL);
  });

  it('noProgress of a slice is told once: the return that follows (ENOPROGRESS) does not tell it again', async () => {
    const before = recent().length;
    await emit({ eventName: 'noProgress', job: 'j-1', slice: 2, payload: { timestamp: 1 } });
    await emit({ eventName: 'noprogress', job: 'j-1', payload: { timestamp: 2 } }); // no slice: told as is
    expect(recent().slice(before)).toEqual([
      ['noprogress', { job: 'j-1', sliceNumber: 2, timestamp: 1 }],
      ['noprogress', { job: 'j-1', timestamp: 2 }],
    ]);
    // the scheduler's own notice for the worker's ENOPROGRESS return is swallowed once
    h.core.lifecycle.noProgress('j-1', 2, { timestamp: 3 }, false);
    expect(recent()).toHaveLength(before + 2);
    h.core.lifecycle.noProgress('j-1', 2, { timestamp: 4 }, false);
    expect(recent()).toHaveLength(before + 3);
  });
});
