import { eventList, jobDetail, jobEscrow, resultList, sliceList } from '@dcp-emu/contracts';
import { DcpErrorCode, Identity, kvinFor } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrayJob,
  openHarness,
  rangeJob,
  refusal,
  storeResults,
  T0,
  type UseCaseHarness,
} from '../usecase-harness.test';
import { ReadJob } from './read-job.usecase';

const client = Identity.random().address;
const payer = Identity.random().address;

describe('ReadJob: GET /api/jobs/:id[/slices|/results|/escrow|/events] (SQLite job store)', () => {
  let h: UseCaseHarness;
  let read: ReadJob;
  beforeAll(async () => {
    h = await openHarness();
    read = new ReadJob(h.ctx);
    await h.core.submit.execute(
      rangeJob('j-range', payer, 4, { name: 'R', mvMultSlicePayment: 3 }),
      client,
      5,
      true,
    );
    await h.core.addJobToGroups.execute({ job: 'j-range', cgArray: [] }, client, 'sid');
    await h.core.submit.execute(arrayJob('j-array', payer), client, 5, true);
    await h.core.addSliceData.execute(
      { job: 'j-array', dataValues: kvinFor(5).marshal(['a', { b: [1] }]) },
      client,
      5,
    );
  });
  afterAll(() => h?.close());

  it('find: ENOENT for an unknown job, the record for a known one', async () => {
    expect((await refusal(read.find('nope'))).code).toBe(DcpErrorCode.ENOENT);
    expect((await refusal(read.find(''))).code).toBe(DcpErrorCode.ENOENT);
    expect(await read.find('j-range')).toMatchObject({ id: 'j-range', owner: client });
  });

  it('detail: status, slice counts, metering, offer and groups, as the contract has them', async () => {
    await storeResults(h, 'j-range', 2);
    h.ctx.store.leaseSlices('j-range', 1, 'w2', h.clock.now());
    const detail = jobDetail.parse(await read.detail(await read.find('j-range')));
    expect(detail).toMatchObject({
      id: 'j-range',
      owner: client,
      paymentAccount: payer,
      status: 'running',
      name: 'R',
      totalSlices: 4,
      completedSlices: 2,
      slices: { queued: 1, leased: 1, done: 2 },
      inputKind: 'range',
      generation: 5,
      subscribers: 0,
      metering: { cpuMs: 10, gpuMs: 0, bytesIn: 20, bytesOut: 40 },
      offer: { absolute: 0, marketValueMultiplier: 3 },
      groups: ['public'],
      deployTime: new Date(T0).toISOString(),
    });
  });

  it('slices: input, status, lease holder and metering of each slice, paged', async () => {
    const job = await read.find('j-range');
    const all = sliceList.parse(await read.slices(job, { limit: 10 })).slices;
    expect(all.map((s) => [s.sliceNumber, s.status, s.input, s.worker])).toEqual([
      [1, 'done', 1, 'w1'],
      [2, 'done', 2, 'w1'],
      [3, 'leased', 3, 'w2'],
      [4, 'queued', 4, undefined],
    ]);
    expect(all[0]?.metering).toEqual({ cpuMs: 5, gpuMs: 0, bytesIn: 10, bytesOut: 20 });
    expect(all[3]?.metering).toBeUndefined();
    expect(all[2]?.leaseExpires).toBeDefined();
    const page = (await read.slices(job, { from: 2, limit: 2 })).slices;
    expect(page.map((s) => s.sliceNumber)).toEqual([2, 3]);
    const uploaded = (await read.slices(await read.find('j-array'), { limit: 10 })).slices;
    expect(uploaded.map((s) => s.input)).toEqual(['a', { b: [1] }]);
  });

  it('results: decoded values of done slices only; escrow: null without a metered bank', async () => {
    const job = await read.find('j-range');
    expect(resultList.parse(await read.results(job, { limit: 10 })).results).toEqual([
      { sliceNumber: 1, isError: false, value: 10 },
      { sliceNumber: 2, isError: false, value: 20 },
    ]);
    expect((await read.results(job, { from: 2, limit: 10 })).results.map((r) => r.sliceNumber)).toEqual([2]);
    expect(jobEscrow.parse(await read.escrow(job))).toEqual({ escrow: null });
  });

  it('results: a slice that threw is listed as an error result', async () => {
    await storeResults(h, 'j-array', 1, () => new Error('boom'));
    const [row, ...rest] = (await read.results(await read.find('j-array'), { limit: 10 })).results;
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ sliceNumber: 1, isError: true });
    expect(JSON.stringify(row?.value)).toContain('boom');
  });

  it('events: stored reliable ones and recent optional ones, oldest first', async () => {
    const job = await read.find('j-range');
    expect((await read.events(job)).events).toEqual([]);
    await h.clock.advance(10);
    h.ctx.events.emit('j-range', 'console', { sliceNumber: 1, level: 'log', message: 'hi' });
    await h.clock.advance(10);
    await h.core.cancelJob.execute({ job: 'j-range', reason: 'seen enough' }, client);
    const events = eventList.parse(await read.events(await read.find('j-range'))).events;
    expect(events.map((e) => [e.name, e.stored, e.seq > 0])).toEqual([
      ['console', false, false],
      ['stop', true, true],
    ]);
    expect(events[1]?.data).toMatchObject({ runStatus: 'cancelled', reason: 'seen enough' });
  });
});
