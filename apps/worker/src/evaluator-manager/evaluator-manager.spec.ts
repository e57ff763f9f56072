import { mkdtempSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, afterAll } from 'vitest';
import { ActivityMonitor, fileLoad, ptsSessions } from './activity';
import { parseManagerArgs } from './cli';
import { EvaluatorManager } from './manager';

const made: string[] = [];
/** a temporary directory, removed after the file's tests */
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('activity monitor', () => {
  it('busy on load above the limit (chosen average), an active terminal, or the toggle signal', () => {
    let load: [number, number, number] = [0.5, 3, 0.1];
    let tty: string | undefined;
    const m = new ActivityMonitor(
      { maxLoad: 2, loadavgType: 'short', idleTimeoutMs: 30_000, disabled: new Set() },
      { load: () => load, sessions: () => tty, now: () => 0 },
    );
    expect(m.check()).toBe('');
    load = [2.5, 0, 0];
    expect(m.check()).toBe('short load 2.50 > 2');
    load = [0, 0, 0];
    tty = '/dev/pts/3';
    expect(m.check()).toBe('terminal /dev/pts/3 in use');
    tty = undefined;
    expect(m.toggle()).toBe(true);
    expect(m.check()).toBe('paused by signal');
    expect(m.toggle()).toBe(false);
    expect(m.check()).toBe('');
    const medium = new ActivityMonitor(
      { maxLoad: 2, loadavgType: 'medium', idleTimeoutMs: 1, disabled: new Set(['session']) },
      { load: () => [0, 3, 0], sessions: () => '/dev/pts/1', now: () => 0 },
    );
    expect(medium.check()).toBe('medium load 3.00 > 2');
  });

  it('reads /proc/loadavg-format files and terminal access times', () => {
    const d = tmp('act-');
    const f = join(d, 'loadavg');
    writeFileSync(f, '1.25 0.50 0.10 2/300 4242\n');
    expect(fileLoad(f)()).toEqual([1.25, 0.5, 0.1]);
    writeFileSync(f, 'nonsense');
    expect(() => fileLoad(f)()).toThrow(/not a load average/);

    const pts = tmp('pts-');
    writeFileSync(join(pts, 'ptmx'), '');
    writeFileSync(join(pts, '0'), '');
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(join(pts, '0'), old, old);
    const sessions = ptsSessions(pts, undefined);
    expect(sessions(30_000, Date.now())).toBeUndefined();
    writeFileSync(join(pts, '1'), 'typed');
    expect(sessions(30_000, Date.now())).toBe(join(pts, '1'));
    expect(ptsSessions(pts, join(pts, '1'))(30_000, Date.now())).toBeUndefined();
  });

  it('flags over the config file over the defaults', () => {
    const o = parseManagerArgs(['-l', '1.5', '-d', 'session', '--evaluator', '10.0.0.2:9100'], {
      evaluatorManager: { maxLoad: 4, idleTimeout: 10, listen: 9200, loadavgType: 'long' },
    });
    expect(o).toMatchObject({
      maxLoad: 1.5,
      idleTimeoutMs: 10_000,
      listenPort: 9200,
      loadavgType: 'long',
      evaluatorHost: '10.0.0.2',
      evaluatorPort: 9100,
      killOnBusy: true,
    });
    expect([...o.disabled]).toEqual(['session']);
    expect(parseManagerArgs([])).toMatchObject({ listenPort: 9000, evaluatorPort: 9001, maxLoad: undefined });
    expect(() => parseManagerArgs(['-e', 'nohost'])).toThrow(/host:port/);
    expect(() => parseManagerArgs(['-T', 'weekly'])).toThrow(/short, medium or long/);
  });
});

describe('evaluator manager (real sockets)', () => {
  let echo: Server | undefined;
  let manager: EvaluatorManager | undefined;
  afterEach(async () => {
    await manager?.stop();
    await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  });

  async function echoServer(): Promise<number> {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo?.listen(0, '127.0.0.1', r));
    const a = echo.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  function open(port: number): Promise<{ socket: Socket; closed: Promise<void>; data: () => string }> {
    return new Promise((resolve, reject) => {
      let data = '';
      const socket = connect({ host: '127.0.0.1', port }, () =>
        resolve({ socket, closed, data: () => data }),
      );
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.once('error', reject);
    });
  }

  async function until(cond: () => boolean, what: string): Promise<void> {
    const end = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('joins sandboxes to the evaluator while idle; closes them and refuses new ones while busy', async () => {
    const target = await echoServer();
    let load: [number, number, number] = [0, 0, 0];
    const monitor = new ActivityMonitor(
      { maxLoad: 1, loadavgType: 'short', idleTimeoutMs: 1000, disabled: new Set(['session']) },
      { load: () => load, sessions: () => undefined, now: Date.now },
    );
    manager = new EvaluatorManager(
      {
        listenHost: '127.0.0.1',
        listenPort: 0,
        evaluatorHost: '127.0.0.1',
        evaluatorPort: target,
        pollMs: 20,
        rateMs: 0,
        killOnBusy: true,
      },
      monitor,
    );
    const events: string[] = [];
    manager.on('busy', (r) => events.push(`busy ${r}`));
    manager.on('idle', () => events.push('idle'));
    await manager.start();

    const a = await open(manager.port);
    a.socket.write('hello\n');
    await until(() => a.data() === 'hello\n', 'echo through the manager');
    expect(manager.connections).toBe(1);

    load = [5, 0, 0];
    await a.closed; // the running sandbox is closed
    expect(events).toEqual(['busy short load 5.00 > 1']);
    const b = await open(manager.port);
    await b.closed; // refused
    expect(b.data()).toBe('');

    load = [0.2, 0, 0];
    await until(() => events.includes('idle'), 'idle again');
    const c = await open(manager.port);
    c.socket.write('again\n');
    await until(() => c.data() === 'again\n', 'echo after idle');
    c.socket.destroy();
  });

  it('--keep-running: refuses new sandboxes when busy but lets running ones finish', async () => {
    const target = await echoServer();
    const monitor = new ActivityMonitor(
      { maxLoad: undefined, loadavgType: 'short', idleTimeoutMs: 1000, disabled: new Set(['session']) },
      { load: () => [0, 0, 0], sessions: () => undefined, now: Date.now },
    );
    manager = new EvaluatorManager(
      {
        listenHost: '127.0.0.1',
        listenPort: 0,
        evaluatorHost: '127.0.0.1',
        evaluatorPort: target,
        pollMs: 20,
        rateMs: 0,
        killOnBusy: false,
      },
      monitor,
    );
    await manager.start();
    const a = await open(manager.port);
    monitor.toggle();
    manager.update();
    expect(manager.busy).toBe('paused by signal');
    const b = await open(manager.port);
    await b.closed;
    a.socket.write('still\n');
    await until(() => a.data() === 'still\n', 'running sandbox kept');
    a.socket.destroy();
  });
});
