import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBase, portOpen } from '@dcp-emu/testing';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

/** `npm start` as a new user runs it: the real CLI, the built services, a fresh data dir. */
describe('dcp-emu up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-stack-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts every service healthy, prints URLs and the DCP env, and Ctrl-C stops them all', async () => {
    const base = await freePortBase();
    child = spawn(
      process.execPath,
      [
        join(ROOT, 'packages/cli/bin/dcp-emu.js'),
        'up',
        '--no-build',
        '--data-dir',
        dataDir,
        '--port-base',
        String(base),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info' },
      },
    );
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((res) => child?.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`stack not ready in time:\n${out}\n${err}`)), 150_000);
      child?.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('export DCP_SCHEDULER_LOCATION=')) {
          clearTimeout(timer);
          res();
        }
      });
      exited.then((code) => rej(new Error(`dcp-emu up exited with ${code}:\n${out}\n${err}`)));
    });

    const lines = Object.fromEntries(
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((p) => p.length === 2 && p[1]?.startsWith('http'))
        .map(([name, url]) => [name, url]),
    );
    expect(Object.keys(lines).sort()).toEqual(['bank', 'portal', 'scheduler', 'worker']);
    expect(out).toContain(`export DCP_SCHEDULER_LOCATION=http://127.0.0.1:${base}/`);
    for (const [name, url] of Object.entries(lines)) {
      const ready = await fetch(new URL(name === 'portal' ? 'api/ready' : 'readyz', url as string));
      expect(ready.status, name).toBe(200);
    }
    const health = (await (await fetch(new URL('healthz', lines.scheduler as string))).json()) as {
      status: string;
    };
    expect(health.status).toBe('ok');
    // structured logs: each service line is JSON
    const schedulerLog = readFileSync(join(dataDir, 'logs', 'scheduler.log'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(schedulerLog[schedulerLog.length - 1] as string)).toHaveProperty(
      'service',
      'scheduler',
    );

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const stillOpen = await Promise.all([0, 1, 2, 3, 4].map((i) => portOpen(base + i)));
    expect(stillOpen).toEqual([false, false, false, false, false]);
  }, 240_000);
});
