import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dcpEnv,
  exportLines,
  readStackInfo,
  removeStackInfo,
  runningStack,
  writeStackInfo,
} from './stack-file';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const info = (dataDir: string, pid = process.pid) => ({
  pid,
  startedAt: new Date(0).toISOString(),
  dataDir,
  resourceDir: join(dataDir, 'resources'),
  homeDir: join(dataDir, 'home'),
  urls: { scheduler: 'http://127.0.0.1:7430/', bank: 'http://127.0.0.1:7431/' },
});

describe('stack.json and the DCP environment', () => {
  it('round-trips the running stack; a dead pid or no file says how to start one', () => {
    dir = mkdtempSync(join(tmpdir(), 'dcp-emu-stack-file-'));
    expect(runningStack(dir)).toMatch(/no dcp-emu stack is running.*dcp-emu up/);
    writeStackInfo(info(dir));
    expect(readStackInfo(dir)).toEqual(info(dir));
    expect(runningStack(dir)).toEqual(info(dir));
    const dead = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
    writeStackInfo(info(dir, dead));
    expect(runningStack(dir)).toMatch(/not running any more/);
    // only the stack that wrote it removes it
    removeStackInfo(dir, process.pid);
    expect(readStackInfo(dir)?.pid).toBe(dead);
    removeStackInfo(dir, dead);
    expect(readStackInfo(dir)).toBeUndefined();
  });

  it('the env points dcp-client 5 and 4 at the stack and away from ~/.dcp; export lines are shell-quoted', () => {
    const env = dcpEnv(info('/tmp/my data'));
    expect(env).toEqual({
      DCP_SCHEDULER_LOCATION: 'http://127.0.0.1:7430/',
      DCP_RESOURCE_DIR: '/tmp/my data/resources',
      DCP_HOMEDIR: '/tmp/my data/home',
    });
    const lines = exportLines(env);
    expect(lines).toContain('export DCP_SCHEDULER_LOCATION=http://127.0.0.1:7430/\n');
    expect(lines).toContain("export DCP_RESOURCE_DIR='/tmp/my data/resources'\n");
    const echoed = execFileSync('sh', ['-c', `${lines} printf %s "$DCP_RESOURCE_DIR"`], { encoding: 'utf8' });
    expect(echoed).toBe('/tmp/my data/resources');
  });

  it('on a serve stack the env is the public scheduler URL alone (no dev keystores to point at)', () => {
    const served = {
      ...info('/srv/dcp'),
      publicUrls: { scheduler: 'http://192.0.2.10:7430/', bank: 'http://192.0.2.10:7431/' },
    };
    expect(dcpEnv(served)).toEqual({ DCP_SCHEDULER_LOCATION: 'http://192.0.2.10:7430/' });
  });
});
