import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrayJob,
  openHarness,
  rangeJob,
  refusal,
  T0,
  type UseCaseHarness,
  viaRegistry,
} from '../usecase-harness.test';
import { type SubmitData, submitSchema } from './submit.usecase';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = '0x2222222222222222222222222222222222222222';

describe('SubmitJob (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(() => h?.close());

  const submit = (data: unknown, peer = client, generation: 4 | 5 = 5, authorized = true) =>
    viaRegistry(submitSchema, data, (d) =>
      h.core.submit.execute(d as SubmitData, peer, generation, authorized),
    );

  it('records a range job: complete at once, in no compute group until addJobToGroups, slices queued', async () => {
    const answer = await submit(rangeJob('j-range', payer, 4, { name: 'Range', mvMultSlicePayment: 2 }));
    expect(answer).toEqual({ job: 'j-range', escrow: payer, status: 'running', lastSliceNumber: 4 });
    const job = await h.ctx.store.getJob('j-range');
    expect(job).toMatchObject({
      id: 'j-range',
      owner: client,
      paymentAccount: payer,
      generation: 5,
      status: 'running',
      inputKind: 'range',
      inputClosed: true,
      sliceCount: 4,
      mvMultiplier: 2,
      public: { name: 'Range' },
      options: { groups: [], localExec: false, worktime: { name: 'map-basic', version: '^1.0.0' } },
    });
    expect(job?.createdAt.getTime()).toBe(T0);
    expect(await h.ctx.store.sliceCounts('j-range')).toEqual({ queued: 4, leased: 0, done: 0 });
  });

  it('records an open array job with no slices, and a URL-list job closed unless isOpen', async () => {
    expect(await submit(arrayJob('j-array', payer))).toMatchObject({ job: 'j-array', lastSliceNumber: 0 });
    expect(await h.ctx.store.getJob('j-array')).toMatchObject({
      inputKind: 'array',
      inputClosed: false,
      sliceCount: 0,
    });
    const urls = ['https://example.com/1', 'https://example.com/2'];
    expect(await submit(arrayJob('j-urls', payer, { marshaledDataValues: urls }))).toMatchObject({
      lastSliceNumber: 2,
    });
    expect(await h.ctx.store.getJob('j-urls')).toMatchObject({ inputClosed: true, sliceCount: 2 });
    const [first] = await h.ctx.store.slices('j-urls', { numbers: [1] });
    expect(first?.input).toBe(`u:${urls[0]}`);
  });

  it('is idempotent per job id: a retried submit answers the stored job and adds nothing', async () => {
    const again = await submit(rangeJob('j-range', payer, 9));
    expect(again).toEqual({ job: 'j-range', escrow: payer, status: 'running', lastSliceNumber: 4 });
    expect((await h.ctx.store.getJob('j-range'))?.sliceCount).toBe(4);
  });

  it('gives 4.x jobs an address-like id derived from the owner and the client id', async () => {
    const a = (await submit({ ...rangeJob('x', payer, 1), job: undefined, id: 'c1' }, client, 4)) as {
      job: string;
    };
    expect(a.job).toMatch(/^0x[0-9a-f]{40}$/);
    const b = (await submit({ ...rangeJob('x', payer, 1), job: undefined, id: 'c1' }, client, 4)) as {
      job: string;
    };
    expect(b.job).toBe(a.job);
    const other = (await submit({ ...rangeJob('x', payer, 1), job: undefined, id: 'c1' }, stranger, 4)) as {
      job: string;
    };
    expect(other.job).not.toBe(a.job);
    expect((await h.ctx.store.getJob(a.job))?.generation).toBe(4);
  });

  it('refuses bad input with EINVAL, an unauthorized payment account and a taken id with EPERM; stores nothing', async () => {
    const before = await h.ctx.store.countJobs();
    const cases: [unknown, string, string?][] = [
      [{ workFunctionURI: 'data:,x', job: 'bad-1' }, DcpErrorCode.EINVAL], // no paymentAccount (zod)
      [{ paymentAccount: payer, job: 'bad-2' }, DcpErrorCode.EINVAL], // no work function (zod)
      [rangeJob('bad-3', payer, 1, { sliceCount: -1 }), DcpErrorCode.EINVAL], // zod: min(0)
      [rangeJob('', payer, 1), DcpErrorCode.EINVAL], // zod: empty id
      [{ ...rangeJob('x', payer, 1), job: undefined }, DcpErrorCode.EINVAL], // no id at all
      [rangeJob('bad-4', payer, 1, { dataRange: { start: 1, end: 'x' } }), DcpErrorCode.EINVAL],
      [arrayJob('bad-5', payer, { marshaledDataValues: 42 }), DcpErrorCode.EINVAL], // not a URL list
      [rangeJob('j-range', payer, 1), DcpErrorCode.EPERM, stranger], // someone else's job id
    ];
    for (const [data, code, peer] of cases)
      expect((await refusal(submit(data, peer ?? client))).code, JSON.stringify(data)).toBe(code);
    expect((await refusal(submit(rangeJob('bad-6', payer, 1), client, 5, false))).code).toBe(
      DcpErrorCode.EPERM,
    );
    expect(await h.ctx.store.countJobs()).toBe(before);
    expect(await h.ctx.store.getJob('j-range')).toMatchObject({ owner: client, sliceCount: 4 });
  });
});
