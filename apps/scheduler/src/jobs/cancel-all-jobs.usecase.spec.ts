import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, rangeJob, refusal, type UseCaseHarness, viaRegistry } from '../usecase-harness.test';
import { cancelAllJobsSchema } from './cancel-all-jobs.usecase';

const alice = Identity.random().address;
const bob = Identity.random().address;
const payA = Identity.random().address;
const payB = Identity.random().address;

describe('CancelAllJobs (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('a-1', payA, 1), alice, 5, true);
    await h.core.submit.execute(rangeJob('a-2', payA, 1), alice, 5, true);
    await h.core.submit.execute(rangeJob('a-other-payer', payB, 1), alice, 5, true);
    await h.core.submit.execute(rangeJob('b-1', payA, 1), bob, 5, true); // bob's, paid from the same account
  });
  afterAll(() => h?.close());

  const cancelAll = (data: unknown, peer: string) =>
    viaRegistry(cancelAllJobsSchema, data, (d) => h.core.cancelAllJobs.execute(d, peer));
  const statuses = async () =>
    Object.fromEntries(
      await Promise.all(
        ['a-1', 'a-2', 'a-other-payer', 'b-1'].map(async (id) => [
          id,
          (await h.ctx.store.getJob(id))?.status,
        ]),
      ),
    );

  it('refuses a malformed payment account or reason with EINVAL; nothing is cancelled', async () => {
    for (const data of [
      { reason: 'x' },
      { paymentAccount: 'bob', reason: 'x' },
      { paymentAccount: payA },
      { paymentAccount: payA, reason: '' },
      { paymentAccount: payA, reason: 'x'.repeat(501) },
    ])
      expect((await refusal(cancelAll(data, alice))).code, JSON.stringify(data)).toBe(DcpErrorCode.EINVAL);
    expect(Object.values(await statuses())).toEqual(['running', 'running', 'running', 'running']);
  });

  it("cancels the signer's running jobs paid from that account, and nobody else's", async () => {
    const answer = await cancelAll({ paymentAccount: payA.toLowerCase(), reason: 'clean up' }, alice);
    expect(answer).toEqual({ success: true, cancelled: ['a-1', 'a-2'].sort() });
    expect(await statuses()).toEqual({
      'a-1': 'cancelled',
      'a-2': 'cancelled',
      'a-other-payer': 'running',
      'b-1': 'running',
    });
    expect((await h.ctx.store.getJob('a-1'))?.cancelReason).toBe('clean up');
    expect((await h.ctx.store.events('a-2')).map((e) => [e.name, e.data.reason])).toEqual([
      ['stop', 'clean up'],
    ]);
    // once more: nothing left to cancel
    expect(await cancelAll({ paymentAccount: payA, reason: 'again' }, alice)).toEqual({
      success: true,
      cancelled: [],
    });
  });

  it('a stranger cancels nothing, even naming the account', async () => {
    const stranger = Identity.random().address;
    expect(await cancelAll({ paymentAccount: payB, reason: 'mine now' }, stranger)).toEqual({
      success: true,
      cancelled: [],
    });
    expect((await h.ctx.store.getJob('a-other-payer'))?.status).toBe('running');
  });

  it('the payment account itself may cancel the jobs it pays for', async () => {
    expect(await cancelAll({ paymentAccount: payB, reason: 'payer stops' }, payB)).toEqual({
      success: true,
      cancelled: ['a-other-payer'],
    });
    expect((await h.ctx.store.getJob('a-other-payer'))?.status).toBe('cancelled');
  });
});
