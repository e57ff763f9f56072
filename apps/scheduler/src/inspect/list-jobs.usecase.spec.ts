import { jobList, jobListQuery } from '@dcp-emu/contracts';
import { getDefaultCrypto, Identity, toChecksumAddress } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, rangeJob, type UseCaseHarness } from '../usecase-harness.test';
import { ListJobs } from './list-jobs.usecase';

const alice = Identity.random().address;
const bob = Identity.random().address;
const payA = Identity.random().address;
const payB = Identity.random().address;

describe('ListJobs: GET /api/jobs (SQLite job store)', () => {
  let h: UseCaseHarness;
  let list: ListJobs;
  beforeAll(async () => {
    h = await openHarness();
    list = new ListJobs(h.ctx);
    // created one second apart: newest first is j-4, j-3, j-2, j-1
    const jobs: [string, string, string][] = [
      ['j-1', alice, payA],
      ['j-2', alice, payB],
      ['j-3', bob, payA],
      ['j-4', bob, payB],
    ];
    for (const [id, owner, payer] of jobs) {
      await h.core.submit.execute(rangeJob(id, payer, 2), owner, 5, true);
      await h.clock.advance(1000);
    }
    await h.core.cancelJob.execute({ job: 'j-4' }, bob);
  });
  afterAll(() => h?.close());

  const q = (over: Record<string, unknown> = {}) => jobListQuery.parse(over);
  const ids = (answer: { jobs: { id: string }[] }) => answer.jobs.map((j) => j.id);

  it('lists every job newest first with the total, pages with limit/offset, filters by status and owner', async () => {
    const all = jobList.parse(await list.execute(q(), { all: true }));
    expect(ids(all)).toEqual(['j-4', 'j-3', 'j-2', 'j-1']);
    expect(all.total).toBe(4);
    expect(all.jobs[0]).toMatchObject({
      id: 'j-4',
      owner: bob,
      paymentAccount: payB,
      status: 'cancelled',
      totalSlices: 2,
    });
    const page = await list.execute(q({ limit: '2', offset: '1' }), { all: true });
    expect([ids(page), page.total]).toEqual([['j-3', 'j-2'], 4]);
    expect(ids(await list.execute(q({ status: 'running' }), { all: true }))).toEqual(['j-3', 'j-2', 'j-1']);
    expect(ids(await list.execute(q({ status: 'cancelled,finished' }), { all: true }))).toEqual(['j-4']);
    expect(ids(await list.execute(q({ owner: alice }), { all: true }))).toEqual(['j-2', 'j-1']);
  });

  it('finds jobs deployed by or paid from any listed account, in any spelling; malformed addresses are dropped', async () => {
    const checksummed = toChecksumAddress(getDefaultCrypto(), payA);
    const byPayer = await list.execute(q({ account: checksummed.toLowerCase() }), { all: true });
    expect([ids(byPayer), byPayer.total]).toEqual([['j-3', 'j-1'], 2]);
    expect(
      ids(
        await list.execute(q({ account: `${alice.toUpperCase().replace('0X', '0x')},bogus` }), { all: true }),
      ),
    ).toEqual(['j-2', 'j-1']);
  });

  it('beyond loopback a signer sees only its own jobs, whatever account it asks for', async () => {
    const mine = await list.execute(q(), { all: false, address: alice });
    expect([ids(mine), mine.total]).toEqual([['j-2', 'j-1'], 2]);
    // the payer of a job sees it too
    expect(ids(await list.execute(q(), { all: false, address: payA }))).toEqual(['j-3', 'j-1']);
    expect(await list.execute(q({ account: bob }), { all: false, address: alice })).toEqual({
      jobs: [],
      total: 0,
    });
    expect(await list.execute(q({ account: 'bogus' }), { all: false, address: alice })).toEqual({
      jobs: [],
      total: 0,
    });
    expect(await list.execute(q(), { all: false, address: Identity.random().address })).toEqual({
      jobs: [],
      total: 0,
    });
  });

  it('the REST query contract refuses bad paging before the use case runs', () => {
    for (const bad of [{ limit: '0' }, { limit: '1001' }, { offset: '-1' }, { limit: 'x' }])
      expect(jobListQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
