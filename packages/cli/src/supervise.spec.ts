import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from './stack';
import { nodePorts, SupervisedService } from './supervise';

/* Real child processes and a real listening socket; only the terminal output is captured. */
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function spec(script: string, ports: number[] = []): ServiceSpec {
  return {
    name: 'worker',
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: process.env,
    url: 'http://127.0.0.1:1/',
    readyPath: 'readyz',
    ports,
  };
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dcp-emu-supervise-'));
  dirs.push(d);
  return d;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('SupervisedService', () => {
  it('restarts a service that exits unexpectedly, with back-off, counting the restarts', async () => {
    const said: string[] = [];
    const dir = dataDir();
    const s = new SupervisedService(
      spec('setTimeout(() => process.exit(3), 50)'),
      dir,
      () => {},
      { ...nodePorts, say: (l) => said.push(l) },
      { initialMs: 20, maxMs: 200, stableMs: 60_000 },
    );
    const first = s.start();
    const pids = new Set([first.child.pid]);
    s.supervise();
    await until(() => s.info.restarts >= 2, 'two restarts');
    s.stop();
    if (s.current) pids.add(s.current.child.pid);
    await s.current?.exited;
    expect(pids.size).toBeGreaterThan(1);
    expect(said.join('\n')).toMatch(/worker exited unexpectedly \(code 3\); restarting in .* \(restart 1\)/);
    expect(s.info.lastExit).toMatch(/code 3/);
    expect(readFileSync(join(dir, 'logs', 'worker.log'), 'utf8')).toMatch(/"restarts":1/);
  });

  it('does not start while another process holds its port, and names that process', async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const s = new SupervisedService(spec('setTimeout(() => {}, 10)', [port]), dataDir(), () => {});
    expect(() => s.start()).toThrow(new RegExp(`port ${port} is held by pid ${process.pid}`));
    expect(s.info).toMatchObject({ state: 'blocked' });
  });

  it('reports a stray holder instead of looping, then restarts once the port is free', async () => {
    const said: string[] = [];
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    servers.pop();
    const s = new SupervisedService(
      spec('setTimeout(() => process.exit(1), 50)', [port]),
      dataDir(),
      () => {},
      { ...nodePorts, say: (l) => said.push(l) },
      { initialMs: 20, maxMs: 100, stableMs: 60_000 },
    );
    s.start();
    // a stray takes the port while the service is down
    const stray = createServer();
    servers.push(stray);
    await new Promise<void>((r) => stray.listen(port, '127.0.0.1', r));
    s.supervise();
    await until(() => s.info.state === 'blocked', 'blocked');
    expect(s.info.blockedBy).toMatch(new RegExp(`pid ${process.pid}`));
    const reports = said.filter((l) => /cannot restart/.test(l)).length;
    await new Promise((r) => setTimeout(r, 400));
    expect(said.filter((l) => /cannot restart/.test(l)).length).toBe(reports); // reported once
    await new Promise<void>((r) => stray.close(() => r()));
    servers.pop();
    await until(() => s.info.restarts >= 1, 'a restart after the port was freed');
    s.stop();
    await s.current?.exited;
  });
});
