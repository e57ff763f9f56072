import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describePortHolder, type Logger, portHolder } from '@dcp-emu/service-kit';

/** dcp-emu-evaluator's exit code when its port is taken (see evaluator/cli.ts). */
const EXIT_PORT_IN_USE = 98;

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
 * down V8 takes only the evaluator with it; the worker restarts it. The evaluator holds a pipe
 * from us on its stdin and exits when it closes, so it never outlives the worker (even kill -9).
 * A port held by another process is reported with that process's pid, not retried in a loop.
 */
export class EvaluatorProcess {
  private child?: ChildProcess;
  private stopping = false;
  restarts = 0;
  /** why the evaluator is not running and will not be restarted (its port is taken) */
  failure: string | undefined;

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
        env: { ...this.env, DCP_EMU_EVALUATOR_EXIT_WITH_PARENT: '1' },
        stdio: ['pipe', 'inherit', 'inherit'],
      },
    );
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (code === EXIT_PORT_IN_USE) {
        const holder = portHolder(this.port);
        this.failure = holder ? describePortHolder(holder) : `port ${this.port} is in use`;
        this.logger.error(
          { port: this.port, holder },
          `evaluator cannot listen: ${this.failure}; not restarting it (stop that process, or use another port)`,
        );
        return;
      }
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
