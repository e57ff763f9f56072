import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Test support of the Node worker (tests and benches only, not in the build): the worker core's
 * scheduler double and `freePort` (`@dcp-emu/worker-core/test-support`), and `startEvaluatorAt`.
 */
export {
  freePort,
  type RecordedResult,
  startTestScheduler,
  type TestJob,
  type TestScheduler,
} from '../../../packages/worker-core/test-support';

export interface TestEvaluator {
  child: ChildProcess;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** dcp-emu-evaluator (from the TypeScript sources) on a given port; resolves once it listens. */
export async function startEvaluatorAt(port: number, timeoutMs = 30_000): Promise<TestEvaluator> {
  const cli = join(__dirname, '..', 'src', 'evaluator', 'cli.ts');
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', cli, '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: join(__dirname, '..'),
      env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`evaluator did not start:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('evaluator listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`evaluator exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    port,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
