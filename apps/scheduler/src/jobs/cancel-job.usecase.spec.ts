import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, rangeJob, refusal, type UseCaseHarness, viaRegistry } from '../usecase-harness.test';
import { cancelJobSchema } from './cancel-job.usecase';

const client = Identity.random().address;
const payer = Identity.random().address;
const stranger = Identity.random().address;

describe('CancelJob (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('j-1', payer, 3), client, 5, true);
    await h.core.submit.execute(rangeJob('j-2', payer, 3), client, 5, true);
  });
  afterAll(() => h?.close());

  const cancel = (data: unknown, peer = client) =>
    viaRegistry(cancelJobSchema, data, (d) => h.core.cancelJob.execute(d, peer));

  it('refuses bad input (EINVAL), a stranger (EPERM) and an unknown job (ENOENT); the job keeps running', async () => {
    expect((await refusal(cancel({}))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(cancel({ job: 'j-1', reason: 7 }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(cancel({ job: 'j-1' }, stranger))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(cancel({ job: 'nope' }))).code).toBe(DcpErrorCode.ENOENT);
    expect((await h.ctx.store.getJob('j-1'))?.status).toBe('running');
    expect(await h.ctx.store.events('j-1')).toEqual([]);
  });

  it('cancels for the owner with its reason and stores the stop event; again answers success without a second stop', async () => {
    expect(await cancel({ job: 'j-1', reason: 'enough' })).toEqual({ success: true });
    const job = await h.ctx.store.getJob('j-1');
    expect(job).toMatchObject({ status: 'cancelled', cancelReason: 'enough' });
    expect(job?.finishedAt).toBeDefined();
    const stops = () => h.ctx.store.events('j-1');
    expect((await stops()).map((e) => [e.name, e.data.runStatus, e.data.reason, e.data.sliceCount])).toEqual([
      ['stop', 'cancelled', 'enough', 3],
    ]);
    expect(await cancel({ job: 'j-1' })).toEqual({ success: true });
    expect(await stops()).toHaveLength(1);
  });

  it("lets the payment account cancel (5.x job.cancel() signs with the payer's keystore), with the default reason", async () => {
    expect(await cancel({ job: 'j-2' }, payer.toLowerCase())).toEqual({ success: true });
    expect(await h.ctx.store.getJob('j-2')).toMatchObject({
      status: 'cancelled',
      cancelReason: 'Job cancelled by its owner',
    });
  });

  it('answers success: false for a job that finished rather than being cancelled', async () => {
    await h.core.submit.execute(rangeJob('j-3', payer, 1), client, 5, true);
    await h.ctx.store.endJob('j-3', 'finished', new Date(h.clock.now()));
    expect(await cancel({ job: 'j-3' })).toEqual({ success: false });
    expect((await h.ctx.store.getJob('j-3'))?.status).toBe('finished');
  });
});
