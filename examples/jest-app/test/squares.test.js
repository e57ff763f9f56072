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
      { env: { ...process.env, ...emu.env } },
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
  'a result held past the lease: virtual time hands the slice out again',
  async () => {
    // the first result is held for 10 minutes of real time; the lease ends after 5 minutes of scheduler time
    await emu.faults.add({ kind: 'delayResult', ms: 600_000 });
    const job = squares([7]);
    await new Promise((r) => setTimeout(r, 2_000));
    await emu.clock.advance('6m');
    expect(await job).toEqual([49]);
  },
);
