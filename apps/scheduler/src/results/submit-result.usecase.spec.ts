import { DcpErrorCode, dataUri, Identity, jobValue, kvinFor } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openHarness,
  rangeJob,
  refusal,
  takeTask,
  type TakenTask,
  type UseCaseHarness,
  viaRegistry,
  workerSession,
} from '../usecase-harness.test';
import { resultSchema, resultValue } from './submit-result.usecase';

const client = Identity.random().address;
const worker = Identity.random().address;
const payer = Identity.random().address;

describe('SubmitResult (SQLite job store, real task authorizations)', () => {
  let h: UseCaseHarness;
  let task: TakenTask;
  let second: TakenTask;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('j-1', payer, 4), client, 5, true);
    await h.core.addJobToGroups.execute({ job: 'j-1', cgArray: [] }, client, 'sid');
    task = await takeTask(h, workerSession(h), worker, 'j-1', 4);
  });
  afterAll(() => h?.close());

  const send = (data: Record<string, unknown>, peer = worker) =>
    viaRegistry(resultSchema, { job: 'j-1', worker: 'w1', paymentAddress: payer, ...data }, (d) =>
      h.core.submitResult.execute(d, peer),
    );
  const v2 = (value: unknown) => kvinFor(4).marshal(jobValue.encode(value, 4));
  const stored = async (n: number) => {
    const [s] = await h.ctx.store.slices('j-1', { numbers: [n] });
    return { status: s?.status, value: s?.result ? resultValue(s.result) : undefined };
  };

  it('leased all four slices to the worker', () => {
    expect(task.slices).toEqual([1, 2, 3, 4]);
  });

  it('refuses bad input (EINVAL) and foreign or forged authorizations (EPERM); a refused slice goes back in the queue at once', async () => {
    const auth = task.authorizationMessage;
    expect((await refusal(send({ slice: 0, authorizationMessage: auth, resultV2: v2(1) }))).code).toBe(
      DcpErrorCode.EINVAL,
    );
    expect((await refusal(send({ slice: 1, job: '', authorizationMessage: auth }))).code).toBe(
      DcpErrorCode.EINVAL,
    );
    expect(
      (
        await refusal(
          send({ slice: 1, authorizationMessage: auth, metrics: { CPUTime: 'x' }, resultV2: v2(1) }),
        )
      ).code,
    ).toBe(DcpErrorCode.EINVAL);
    expect(await h.ctx.store.sliceCounts('j-1')).toEqual({ queued: 0, leased: 4, done: 0 });

    const forged = { ...auth, signature: { r: [1], s: [2], v: 27 } };
    expect((await refusal(send({ slice: 1, authorizationMessage: forged, resultV2: v2(1) }))).code).toBe(
      DcpErrorCode.EPERM,
    );
    expect((await refusal(send({ slice: 2, resultV2: v2(2) }))).code).toBe(DcpErrorCode.EPERM); // none at all
    // a result without a value is unreadable
    expect((await refusal(send({ slice: 3, authorizationMessage: auth }))).code).toBe(DcpErrorCode.EINVAL);
    expect(await h.ctx.store.sliceCounts('j-1')).toEqual({ queued: 3, leased: 1, done: 0 });
    expect((await h.ctx.store.getJob('j-1'))?.completedCount).toBe(0);
  });

  it('stores a result with its metering, answers the job metrics; a duplicate is answered and ignored', async () => {
    second = await takeTask(h, workerSession(h), worker, 'j-1', 3);
    expect(second.slices.sort()).toEqual([1, 2, 3]);
    const auth = second.authorizationMessage;
    const answer = await send({
      slice: 1,
      authorizationMessage: auth,
      metrics: { CPUTime: 4, InDataSize: 10, OutDataSize: 20 },
      resultV2: v2({ one: 1 }),
    });
    expect(answer).toMatchObject({ slicePaymentAmount: '0', metrics: { sliceCPUTime: 4 } });
    expect(await stored(1)).toEqual({ status: 'done', value: { one: 1 } });
    expect(await h.ctx.store.getJob('j-1')).toMatchObject({
      completedCount: 1,
      cpuMs: 4,
      bytesIn: 10,
      bytesOut: 20,
    });
    // 4.x style: a data: URI result
    await send({ slice: 2, authorizationMessage: auth, result: dataUri.encode([2, 'two']) });
    expect(await stored(2)).toEqual({ status: 'done', value: [2, 'two'] });
    await expect(send({ slice: 1, authorizationMessage: auth, resultV2: v2('late') })).resolves.toMatchObject(
      {
        slicePaymentAmount: '0',
      },
    );
    await h.core.submitResult.idle();
    expect(await stored(1)).toEqual({ status: 'done', value: { one: 1 } });
    expect((await h.ctx.store.getJob('j-1'))?.completedCount).toBe(2);
  });

  it('the last result finishes the job with a stop event', async () => {
    const auth = second.authorizationMessage;
    const lease4 = task.authorizationMessage; // slice 4 is still leased under the first task
    await send({ slice: 3, authorizationMessage: auth, resultV2: v2(3) });
    await send({ slice: 4, authorizationMessage: lease4, resultV2: v2(4) });
    await h.core.submitResult.idle();
    expect(await h.ctx.store.sliceCounts('j-1')).toEqual({ queued: 0, leased: 0, done: 4 });
    // the client's stop waits a short real-time grace after the last deploy step
    await expect
      .poll(async () => (await h.ctx.store.getJob('j-1'))?.status, { timeout: 30_000 })
      .toBe('finished');
    expect(
      (await h.ctx.store.events('j-1')).map((e) => [e.name, e.data.runStatus, e.data.sliceCount]),
    ).toEqual([['stop', 'finished', 4]]);
  });
});
