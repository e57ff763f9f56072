import { jobSummary } from '@dcp-emu/contracts';
import { DcpErrorCode, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openHarness,
  rangeJob,
  refusal,
  storeResults,
  T0,
  type UseCaseHarness,
  viaRegistry,
} from '../usecase-harness.test';
import { jobReportSchema, listJobsSchema } from './job-report.usecase';

const client = Identity.random().address;
const stranger = Identity.random().address;
const payer = Identity.random().address;

describe('JobReports: pheme (SQLite job store)', () => {
  let h: UseCaseHarness;
  beforeAll(async () => {
    h = await openHarness();
    await h.core.submit.execute(rangeJob('j-1', payer, 5, { name: 'One' }), client, 5, true);
    await h.clock.advance(60_000);
    await h.core.submit.execute(rangeJob('j-2', payer, 2), client, 5, true);
    await h.core.submit.execute(rangeJob('s-1', payer, 1), stranger, 5, true);
    await storeResults(h, 'j-1', 2);
    h.ctx.store.leaseSlices('j-1', 1, 'w2', h.clock.now());
    await h.core.cancelJob.execute({ job: 'j-2' }, client);
  });
  afterAll(() => h?.close());

  const report = (data: unknown, peer = client) =>
    viaRegistry(jobReportSchema, data, (d) => h.core.reports.jobReport(d, peer));
  const slices = (data: unknown, peer = client) =>
    viaRegistry(jobReportSchema, data, (d) => h.core.reports.sliceReport(d, peer));
  const count = (data: unknown, peer = client) =>
    viaRegistry(jobReportSchema, data, (d) => h.core.reports.countSlices(d, peer));
  const list = (data: unknown, peer = client) =>
    viaRegistry(listJobsSchema, data, (d) => h.core.reports.listJobs(d, peer)) as Promise<{ id: string }[]>;

  it('fetchJobReport / fetchSliceReport / countSlices: the owner sees its job progress', async () => {
    const r = jobSummary.parse(await report({ job: 'j-1' }));
    expect(r).toMatchObject({
      id: 'j-1',
      owner: client,
      status: 'running',
      name: 'One',
      totalSlices: 5,
      completedSlices: 2,
      distributed: 3,
      queued: 2,
      deployTime: new Date(T0).toISOString(),
    });
    expect(await slices({ job: 'j-1' })).toEqual({
      totalSlices: 5,
      completedSlices: 2,
      queuedSlices: 2,
      workingSlices: 1,
    });
    expect(await count({ job: 'j-1' })).toEqual({ total: 5, queued: 2, leased: 1, done: 2 });
  });

  it('refuses bad input (EINVAL), a stranger (EPERM) and an unknown job (ENOENT)', async () => {
    for (const call of [report, slices, count]) {
      expect((await refusal(call({}))).code).toBe(DcpErrorCode.EINVAL);
      expect((await refusal(call({ job: '' }))).code).toBe(DcpErrorCode.EINVAL);
      expect((await refusal(call({ job: 'j-1' }, stranger))).code).toBe(DcpErrorCode.EPERM);
      expect((await refusal(call({ job: 'nope' }))).code).toBe(DcpErrorCode.ENOENT);
    }
    expect((await refusal(list({ statuses: 'running' }))).code).toBe(DcpErrorCode.EINVAL);
    expect((await refusal(list({ startDeployTime: true }))).code).toBe(DcpErrorCode.EINVAL);
  });

  it("listJobs / countJobs: the caller's own jobs, by status and deploy time; one job by id only if it is the owner's", async () => {
    expect((await list({})).map((j) => j.id).sort()).toEqual(['j-1', 'j-2']);
    expect((await list({ statuses: ['cancelled'] })).map((j) => j.id)).toEqual(['j-2']);
    expect((await list({ startDeployTime: T0 + 1 })).map((j) => j.id)).toEqual(['j-2']);
    expect((await list({ endDeployTime: new Date(T0).toISOString() })).map((j) => j.id)).toEqual(['j-1']);
    expect((await list({ job: 'j-1' })).map((j) => j.id)).toEqual(['j-1']);
    expect(await list({ job: 's-1' })).toEqual([]);
    expect(await list({ job: 'nope' })).toEqual([]);
    expect((await list({}, stranger)).map((j) => j.id)).toEqual(['s-1']);
    const countJobs = (data: unknown, peer = client) =>
      viaRegistry(listJobsSchema, data, (d) => h.core.reports.countJobs(d, peer));
    expect(await countJobs({})).toEqual({ count: 2 });
    expect(await countJobs({ statuses: ['running'] })).toEqual({ count: 1 });
    expect(await countJobs({}, Identity.random().address)).toEqual({ count: 0 });
  });
});
