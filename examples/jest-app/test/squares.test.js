const { execFile } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { attachEmulator } = require('dcp-emu');

// the stack global-setup.js started for this run (its environment is in process.env)
const emu = attachEmulator();
const timeRoutesAvailable = process.env.DCP_EMU_TIME_ROUTES === '1';

/**
 * dcp-client adds its modules to Node's own module loader, which jest's module registry bypasses:
 * under jest the app runs as a program (src/cli.js), with the emulator's environment.
 */
function squares(numbers, sliceMs = 0) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, '../src/cli.js'), JSON.stringify(numbers), String(sliceMs)],
      // a test that fails must not leave its job's program waiting on a stopped stack
      { env: { ...process.env, ...emu.env }, timeout: 240_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(stderr || error.message)) : resolve(JSON.parse(stdout)),
    );
  });
}

const workerRestarts = () =>
  JSON.parse(readFileSync(join(emu.dataDir, 'stack.json'), 'utf8')).processes?.worker?.restarts ?? 0;

afterEach(() => emu.faults.clear());

test('runs a job', async () => {
  expect(await squares([1, 2, 3, 4])).toEqual([1, 4, 9, 16]);
});

test('completes when the worker crashes mid-job', async () => {
  await emu.faults.add({ kind: 'crashWorker', afterSlices: 2 });
  const numbers = Array.from({ length: 8 }, (_, i) => i + 1);
  expect(await squares(numbers, 300)).toEqual(numbers.map((n) => n * n));
  expect(await emu.faults.list()).toMatchObject([{ kind: 'crashWorker', fired: 1, spent: true }]);
  expect(workerRestarts()).toBeGreaterThanOrEqual(1);
});

test('cannot deploy while the bank is down (ENOBANK), and can again once it is back', async () => {
  await emu.faults.add({ kind: 'bankDown' });
  await expect(squares([5])).rejects.toThrow(/error ENOBANK/);
  await emu.faults.clear();
  expect(await squares([5])).toEqual([25]);
});

(timeRoutesAvailable ? test : test.skip)(
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
