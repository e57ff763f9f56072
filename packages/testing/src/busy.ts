/**
 * Saturating the machine on purpose: child processes that spin (one core each) until stopped, so a
 * load test sees a busy machine. Stop them in a `finally`/`afterAll`; each is killed by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface BusyLoad {
  readonly pids: number[];
  /** SIGKILL every spinner and wait until each has exited. */
  stop(): Promise<void>;
}

export function startBusyLoad(count = 4): BusyLoad {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  return {
    pids: children.map((c) => c.pid as number),
    async stop() {
      await Promise.all(
        children.map((c) => {
          if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
          const exited = new Promise<void>((res) => c.once('exit', () => res()));
          c.kill('SIGKILL');
          return exited;
        }),
      );
    },
  };
}
