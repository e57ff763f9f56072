import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@dcp-emu/testing';
import { describe, expect, it } from 'vitest';

const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const SIMPLE_JOB = join(ROOT, 'node_modules/dcp-client/examples/nodejs/simple-job.js');

function exec(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 180_000 }, (error, out, err) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, out, err }),
    );
  });
}

/** Processes whose command line mentions `text` (the stack's data dir is in every service's environment/args). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const pid of require('node:fs').readdirSync('/proc') as string[]) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (environ.includes(text)) pids.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe('dcp-emu exec: a throw-away stack around one command', () => {
  it("runs an unmodified dcp-client program against its own stack and returns the program's exit code, leaving nothing behind", async () => {
    const ok = await exec(['exec', '--no-build', '--', process.execPath, SIMPLE_JOB]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('Job completed, here are the results:  [ 2, 4, 6, 8 ]');
    expect(ok.err).toMatch(/stopped/);

    // the command sees the stack (its data dir, scheduler) and its exit code comes back
    const failing = await exec([
      'exec',
      '--no-build',
      '--workers',
      '1',
      process.execPath,
      '-e',
      'console.log("DIR " + process.env.DCP_EMU_DATA_DIR + " AT " + process.env.DCP_SCHEDULER_LOCATION); process.exit(3)',
    ]);
    expect(failing.code).toBe(3);
    const [, dir, at] = failing.out.match(/DIR (\S+) AT (\S+)/) ?? [];
    expect(at).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dir).toBeTruthy();
    // every service is gone and the throw-away data dir is removed
    expect(processesMentioning(dir as string)).toEqual([]);
    expect(existsSync(dir as string)).toBe(false);
  }, 300_000);

  it('refuses to run without a command', async () => {
    const r = await exec(['exec', '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exec needs a command/);
  });
});
