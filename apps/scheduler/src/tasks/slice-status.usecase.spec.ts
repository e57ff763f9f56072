import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTuning } from '../config';
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
import { returnErrorCode, sliceStatusSchema } from './slice-status.usecase';

const client = Identity.random().address;
const worker = Identity.random().address;
const payer = Identity.random().address;

describe('SliceStatus: begin / return from a worker (SQLite job store, real task authorizations)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
  });
  afterAll(() => h?.close());

  async function jobWithTask(id: string, slices: number): Promise<TakenTask> {
    await h.core.submit.execute(rangeJob(id, payer, slices), client, 5, true);
    await h.core.addJobToGroups.execute({ job: id, cgArray: [] }, client, 'sid');
    return takeTask(h, workerSession(h), worker, id, slices);
  }
  const status = (data: unknown, peer = worker) =>
    viaRegistry(sliceStatusSchema, data, (d) => h.core.sliceStatus.execute(d, peer, workerSession(h)));
  const bucket = (job: string, task: TakenTask, sliceNumbers: number[], st: string, reason?: unknown) => ({
    worker: 'w1',
    slices: [{ job, sliceNumbers, status: st, authorizationMessage: task.authorizationMessage, reason }],
  });

  it('refuses malformed status (EINVAL) and forged or foreign authorizations (EPERM); leases stay as they were', async () => {
    const task = await jobWithTask('j-bad', 2);
    expect(task.slices).toEqual([1, 2]);
    for (const bad of [
      { slices: [{ job: 'j-bad', sliceNumbers: [1.5], status: 'return' }] },
      { slices: [{ job: 'j-bad', sliceNumbers: 1, status: 'return' }] },
      { slices: [{ sliceNumbers: [1], status: 'return' }] },
      { slices: 'all' },
    ])
      expect((await refusal(status(bad))).code, JSON.stringify(bad)).toBe(DcpErrorCode.EINVAL);
    const forged = {
      ...task,
      authorizationMessage: { ...task.authorizationMessage, signature: { r: [1], s: [2], v: 27 } },
    };
    expect((await refusal(status(bucket('j-bad', forged, [1], 'return')))).code).toBe(DcpErrorCode.EPERM);
    expect((await refusal(status(bucket('j-bad', task, [3], 'return')))).code).toBe(DcpErrorCode.EPERM); // not in the task
    expect((await refusal(status(bucket('other', task, [1], 'return')))).code).toBe(DcpErrorCode.EPERM);
    expect(await h.ctx.store.sliceCounts('j-bad')).toEqual({ queued: 0, leased: 2, done: 0 });
  });

  it('begin keeps the leases alive past their original expiry', async () => {
    const task = await jobWithTask('j-begin', 2);
    await h.clock.advance(defaultTuning.leaseMs - 1_000);
    expect(await status(bucket('j-begin', task, [1, 2], 'begin'))).toEqual({ success: true });
    await h.clock.advance(2_000);
    h.core.leases.sweep();
    expect(await h.ctx.store.sliceCounts('j-begin')).toEqual({ queued: 0, leased: 2, done: 0 });
  });

  it('a benign return puts the slices back in the queue at once without counting an error', async () => {
    const task = await jobWithTask('j-benign', 3);
    expect(await status(bucket('j-benign', task, [1, 2], 'return', 'stopWork'))).toEqual({ success: true });
    expect(await h.ctx.store.sliceCounts('j-benign')).toEqual({ queued: 2, leased: 1, done: 0 });
    expect(await h.ctx.store.maxSliceErrors('j-benign')).toBe(0);
    expect(h.ctx.events.recent('j-benign').filter((e) => e.name === 'noprogress')).toEqual([]);
  });

  it('an ENOPROGRESS return tells the client (noprogress) and counts; too many cancel the job with that code', async () => {
    let task = await jobWithTask('j-np', 1);
    for (let attempt = 1; attempt <= defaultTuning.maxSliceErrors; attempt++) {
      expect(task.slices).toEqual([1]);
      await status(bucket('j-np', task, [1], 'return', 'ENOPROGRESS'));
      if (attempt < defaultTuning.maxSliceErrors) {
        expect(await h.ctx.store.maxSliceErrors('j-np')).toBe(attempt);
        expect((await h.ctx.store.getJob('j-np'))?.status).toBe('running');
        task = await takeTask(h, workerSession(h), worker, 'j-np', 1);
      }
    }
    const told = h.ctx.events.recent('j-np').filter((e) => e.name === 'noprogress');
    expect(told.map((e) => e.data.sliceNumber)).toEqual([1, 1, 1]);
    const job = await h.ctx.store.getJob('j-np');
    expect(job).toMatchObject({ status: 'cancelled', cancelCode: DcpErrorCode.ENOPROGRESS });
    expect((await h.ctx.store.events('j-np')).map((e) => [e.name, e.data.code])).toEqual([
      ['stop', DcpErrorCode.ENOPROGRESS],
    ]);
  });

  it('reads return reasons: error objects count, stack failures and benign strings do not', () => {
    expect(returnErrorCode({ errorCode: 'EUNCAUGHT' })).toBe('EUNCAUGHT');
    expect(returnErrorCode({ message: 'x' })).toBe(DcpErrorCode.EWORKREJECT);
    expect(returnErrorCode('ENOPROGRESS')).toBe('ENOPROGRESS');
    expect(returnErrorCode('ECONNRESET')).toBeUndefined();
    expect(returnErrorCode({ code: 'EINTERNAL' })).toBeUndefined();
    expect(returnErrorCode('stopWork')).toBeUndefined();
    expect(returnErrorCode('some words')).toBeUndefined();
    expect(returnErrorCode(undefined)).toBeUndefined();
  });
});
