import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startEmulator } from 'dcp-emu';
import { afterAll, describe, expect, it } from 'vitest';

// one throw-away stack for this file: scheduler, bank and a worker with 2 sandboxes, on free ports
const emu = await startEmulator({
  workers: 2,
  // leases are capped at 5 minutes (virtual time moves past that below)
  serviceEnv: { DCP_EMU_MAX_LEASE_MS: '300000' },
});
afterAll(() => emu.stop());
// dcp-client reads the scheduler and the dev keystores from the environment
Object.assign(process.env, emu.env);
// the app is plain CommonJS, loaded as Node loads it
const { squares } = createRequire(import.meta.url)('../src/squares.js') as {
  squares: (n: number[], o?: { sliceMs?: number }) => Promise<number[]>;
};
const timeRoutesAvailable = await emu.clock.available();

const workerRestarts = () =>
  (
    JSON.parse(readFileSync(join(emu.dataDir, 'stack.json'), 'utf8')) as {
      processes?: { worker?: { restarts: number } };
    }
  ).processes?.worker?.restarts ?? 0;

describe('squares against dcp-emu', () => {
  it('runs a job', async () => {
    expect(await squares([1, 2, 3, 4])).toEqual([1, 4, 9, 16]);
  });

  it('completes when the worker crashes mid-job', async () => {
    await emu.faults.add({ kind: 'crashWorker', afterSlices: 2 });
    const numbers = Array.from({ length: 8 }, (_, i) => i + 1);
    expect(await squares(numbers, { sliceMs: 300 })).toEqual(numbers.map((n) => n * n));
    const [crash] = await emu.faults.list();
    expect(crash).toMatchObject({ kind: 'crashWorker', fired: 1, spent: true });
    expect(workerRestarts()).toBeGreaterThanOrEqual(1);
    await emu.faults.clear();
  });

  it('cannot deploy while the bank is down (ENOBANK), and can again once it is back', async () => {
    await emu.faults.add({ kind: 'bankDown' });
    await expect(squares([5])).rejects.toMatchObject({ code: 'ENOBANK' });
    await emu.faults.clear();
    expect(await squares([5])).toEqual([25]);
  });

  it.skipIf(!timeRoutesAvailable)(
    'a result lost on the way: its slice waits for its lease, and virtual time ends the lease',
    async () => {
      // the worker hears "accepted" but the result is lost; the slice stays leased to that worker —
      // which keeps talking, so its lease is renewed — up to the longest lease (1 h of scheduler
      // time): advancing the clock past it re-queues the slice at once
      await emu.faults.add({ kind: 'dropResult', keepLease: true });
      const job = squares([7]);
      while ((await emu.faults.list())[0]?.fired !== 1) await new Promise((r) => setTimeout(r, 200));
      await emu.clock.advance('61m');
      expect(await job).toEqual([49]);
      await emu.faults.clear();
    },
  );
});
