import { DcpErrorCode, Identity, kvinFor } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrayJob,
  openHarness,
  rangeJob,
  refusal,
  type UseCaseHarness,
  viaRegistry,
} from '../usecase-harness.test';
import { addSliceDataSchema } from './add-slice-data.usecase';
import { decodeInput } from './job-input';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = '0x2222222222222222222222222222222222222222';

describe('AddSliceData (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(arrayJob('j-open', payer), client, 5, true);
    await h.core.submit.execute(rangeJob('j-range', payer, 2), client, 5, true);
  });
  afterAll(() => h?.close());

  const add = (data: unknown, peer = client) =>
    viaRegistry(addSliceDataSchema, data, (d) => h.core.addSliceData.execute(d, peer, 5));
  const state = async (id: string) => ({
    job: await h.ctx.store.getJob(id),
    counts: await h.ctx.store.sliceCounts(id),
  });
  const inputs = async (id: string) =>
    (await h.ctx.store.slices(id)).map((s) => decodeInput(s.input, undefined, s.sliceNumber));

  it('appends uploaded values as queued slices, numbered on from the last pile', async () => {
    const k = kvinFor(5);
    expect(await add({ job: 'j-open', dataValues: k.marshal([10, 'b', { c: 3 }]) })).toEqual({
      lastSliceNumber: 3,
    });
    expect(await add({ job: 'j-open', dataValues: k.marshal([40]) })).toEqual({ lastSliceNumber: 4 });
    expect((await h.ctx.store.getJob('j-open'))?.sliceCount).toBe(4);
    expect(await h.ctx.store.sliceCounts('j-open')).toEqual({ queued: 4, leased: 0, done: 0 });
    expect(await inputs('j-open')).toEqual([10, 'b', { c: 3 }, 40]);
  });

  it('refuses bad input (EINVAL), another identity (EPERM), an unknown job (ENOENT), a closed or range job (EJOBSTATE); nothing changes', async () => {
    const k = kvinFor(5);
    const before = await state('j-open');
    const cases: [unknown, string, string?][] = [
      [{ dataValues: k.marshal([1]) }, DcpErrorCode.EINVAL], // zod: no job
      [{ job: '', dataValues: k.marshal([1]) }, DcpErrorCode.EINVAL], // zod: empty job
      [{ job: 'j-open', dataValues: 'not kvin' }, DcpErrorCode.EINVAL],
      [{ job: 'j-open', dataValues: k.marshal({ not: 'a list' }) }, DcpErrorCode.EINVAL],
      [{ job: 'j-open', dataValues: k.marshal([1]) }, DcpErrorCode.EPERM, stranger],
      [{ job: 'nope', dataValues: k.marshal([1]) }, DcpErrorCode.ENOENT],
      [{ job: 'j-range', dataValues: k.marshal([1]) }, DcpErrorCode.EJOBSTATE],
    ];
    for (const [data, code, peer] of cases)
      expect((await refusal(add(data, peer ?? client))).code, JSON.stringify(data)).toBe(code);
    expect(await state('j-open')).toEqual(before);
    expect((await h.ctx.store.getJob('j-range'))?.sliceCount).toBe(2);

    await h.core.closeJob.execute({ job: 'j-open' }, client);
    expect((await refusal(add({ job: 'j-open', dataValues: k.marshal([1]) }))).code).toBe(
      DcpErrorCode.EJOBSTATE,
    );
    await h.core.cancelJob.execute({ job: 'j-open' }, client);
    expect((await refusal(add({ job: 'j-open', dataValues: k.marshal([1]) }))).code).toBe(
      DcpErrorCode.EJOBSTATE,
    );
    expect((await h.ctx.store.getJob('j-open'))?.sliceCount).toBe(4);
  });
});
