import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '@dcp-emu/service-kit';

/** True when something accepts TCP connections at host:port within the timeout. */
export function probe(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * The worker's evaluator runs as its own process (`dcp-emu-evaluator`), so a sandbox that brings
 * down V8 takes only the evaluator with it; the worker restarts it.
 */
export class EvaluatorProcess {
  private child?: ChildProcess;
  private stopping = false;
  restarts = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  start(): void {
    const bin = join(__dirname, '..', 'bin', 'dcp-emu-evaluator.js');
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', bin, '-H', this.host, '-p', String(this.port)],
      {
        env: this.env,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.restarts++;
      this.logger.warn({ code, signal, restarts: this.restarts }, 'evaluator exited; restarting');
      setTimeout(() => this.start(), Math.min(5000, 200 * this.restarts)).unref();
    });
  }

  ready(): Promise<boolean> {
    return probe(this.host, this.port);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }
}
