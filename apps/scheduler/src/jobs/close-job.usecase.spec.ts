import { DcpErrorCode, Identity, kvinFor } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayJob, openHarness, refusal, type UseCaseHarness, viaRegistry } from '../usecase-harness.test';
import { closeJobSchema } from './close-job.usecase';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = '0x2222222222222222222222222222222222222222';

describe('CloseJob (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(arrayJob('j-open', payer), client, 5, true);
    await h.core.addSliceData.execute({ job: 'j-open', dataValues: kvinFor(5).marshal([1, 2]) }, client, 5);
  });
  afterAll(() => h?.close());

  const close = (data: unknown, peer = client) =>
    viaRegistry(closeJobSchema, data, (d) => h.core.closeJob.execute(d, peer));

  it('refuses bad input (EINVAL), another identity (EPERM) and an unknown job (ENOENT); the input stays open', async () => {
    const before = await h.ctx.store.getJob('j-open');
    expect((await refusal(close({}))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(close({ job: '' }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(close({ job: 'j-open' }, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(close({ job: 'nope' }))).code).toBe(DcpErrorCode.ENOENT);
    expect(await h.ctx.store.getJob('j-open')).toEqual(before);
    expect(before?.inputClosed).toBe(false);
  });

  it('closes the input with its last slice number; the job runs on until its slices have results; closing again is harmless', async () => {
    expect(await close({ job: 'j-open' })).toEqual({ success: true, lastSliceNumber: 2 });
    expect(await h.ctx.store.getJob('j-open')).toMatchObject({ inputClosed: true, status: 'running' });
    expect(await close({ job: 'j-open' })).toEqual({ success: true, lastSliceNumber: 2 });
    expect(await h.ctx.store.sliceCounts('j-open')).toEqual({ queued: 2, leased: 0, done: 0 });
    expect(await h.ctx.store.events('j-open')).toEqual([]);
  });

  it('finishes a job whose every slice already has its result (stop finished)', async () => {
    await h.core.submit.execute(arrayJob('j-empty', payer), client, 5, true);
    expect(await close({ job: 'j-empty' })).toEqual({ success: true, lastSliceNumber: 0 });
    // the client's stop waits a short real-time grace after the last deploy step
    await expect
      .poll(async () => (await h.ctx.store.getJob('j-empty'))?.status, { timeout: 30_000 })
      .toBe('finished');
    const events = await h.ctx.store.events('j-empty');
    expect(events.map((e) => [e.name, e.data.runStatus])).toEqual([['stop', 'finished']]);
  });
});
