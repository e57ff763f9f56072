import { workerList } from '@dcp-emu/contracts';
import { DcpSession, Identity } from '@dcp-emu/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eh1, joinHash } from '../tasks/matching';
import { openHarness, rangeJob, type UseCaseHarness } from '../usecase-harness.test';
import { ListWorkers } from './list-workers.usecase';

const client = Identity.random().address;
const workerId = Identity.random();
const payer = '0x2222222222222222222222222222222222222222';

describe('ListWorkers: GET /api/workers (SQLite job store, lease keeper)', () => {
  let h: UseCaseHarness;
  let session: DcpSession;
  beforeAll(async () => {
    h = await openHarness();
    session = new DcpSession({ role: 'target', identity: h.ctx.identity });
    session.dcpsid = 'W'.repeat(42);
    await h.core.submit.execute(rangeJob('j-1', payer, 6), client, 5, true);
    await h.core.addJobToGroups.execute({ job: 'j-1', cgArray: [] }, client, 'client-dcpsid');
  });
  afterAll(() => h?.close());

  const workers = async () => workerList.parse(await new ListWorkers(h.ctx, h.core.leases).execute()).workers;

  it('lists nobody before any worker asked for work or held a lease', async () => {
    expect(await workers()).toEqual([]);
  });

  it('lists a worker that asked for work with what it said, its proved groups and its leased slices', async () => {
    await h.core.requestTask.execute(
      {
        targetLoad: { cpu: 2 },
        coreStats: { worker: 'w1' },
        workerComputeGroups: [{ joinKey: 'public', joinHashHash: eh1(session.dcpsid + joinHash('public')) }],
      },
      workerId.address,
      4,
      session,
    );
    const [seen, ...rest] = await workers();
    expect(rest).toEqual([]);
    expect(seen).toMatchObject({
      worker: `${workerId.address.toLowerCase()}/w1`,
      address: workerId.address,
      connected: true,
      groups: ['public'],
    });
    expect(seen?.slices.map((s) => s.sliceNumber)).toEqual([1, 2]);
  });

  it('also lists holders of leases that never asked through this scheduler (a restart), with their slices', async () => {
    h.ctx.store.leaseSlices('j-1', 2, 'w-restored', h.clock.now());
    const all = await workers();
    expect(all.map((w) => w.worker)).toEqual([`${workerId.address.toLowerCase()}/w1`, 'w-restored']);
    expect(all[1]).toEqual({ worker: 'w-restored', slices: expect.any(Array) });
    expect(all[1]?.slices.map((s) => s.sliceNumber)).toEqual([3, 4]);
  });
});
