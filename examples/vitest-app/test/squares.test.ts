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
    'a result held past the lease: virtual time hands the slice out again',
    async () => {
      // the first result is held for 10 minutes of real time; the lease ends after 5 minutes of scheduler time
      await emu.faults.add({ kind: 'delayResult', ms: 600_000 });
      const job = squares([7]);
      await new Promise((r) => setTimeout(r, 2_000));
      await emu.clock.advance('6m');
      expect(await job).toEqual([49]);
      await emu.faults.clear();
    },
  );
});
