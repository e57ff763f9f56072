import { createLogger } from '@dcp-emu/service-kit';
import { attachConsole, Dashboard } from '../dashboard';
import { parseArgs, UsageError, usage } from './args';
import { startWorker } from './run-worker';

/** `dcp-emu-worker`: parses the flags, starts evaluator + supervisor, handles SIGINT/SIGTERM/SIGQUIT. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let o: ReturnType<typeof parseArgs>;
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dcp-emu-worker: ${e.message}\n\n${usage}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (o.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // JSON logs go to stderr (and stay quiet under the dashboard); the event lines go to stdout
  const logger = createLogger(
    'worker',
    o.output === 'dashboard' ? 'silent' : o.verbose > 0 ? 'debug' : 'warn',
  );
  // the evaluator child shares our terminal: keep its JSON logs off the dashboard
  const env = o.output === 'dashboard' ? { ...process.env, DCP_EMU_LOG_LEVEL: 'error' } : process.env;
  const worker = await startWorker(o, logger, env);
  const { supervisor } = worker;
  let dashboard: Dashboard | undefined;
  if (o.output === 'dashboard') {
    dashboard = new Dashboard(supervisor, process.stdout, {
      title: 'dcp-emu-worker',
      scheduler: o.schedulerUrl,
      paymentAddress: worker.paymentAddress,
    });
    dashboard.start();
  } else {
    attachConsole(supervisor, {
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
    process.stdout.write(
      ` . dcp-emu-worker ${worker.identity.address} → ${o.schedulerUrl}\n` +
        ` . Payment address: ${worker.paymentAddress}\n` +
        ` . Evaluator: ${o.evaluatorHost}:${o.evaluatorPort}${worker.evaluator ? ' (started)' : ' (external)'}\n` +
        ` . Sandboxes: ${supervisor.options.maxSandboxes}\n`,
    );
  }

  let signals = 0;
  let exitCode = 0;
  const finish = (code: number) => {
    dashboard?.stop();
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1 && signal !== 'SIGQUIT') {
      process.stdout.write(` . ${signal}: stopping (finishing running slices; again to stop now)\n`);
      // safety net: exit whatever happens
      setTimeout(() => finish(exitCode || 1), o.cleanupTimeoutMs + 10_000).unref();
      void worker.stop(false).then(() => finish(exitCode));
    } else if (signals <= 2) {
      process.stdout.write(` . ${signal}: stopping now (returning every unfinished slice)\n`);
      setTimeout(() => finish(exitCode || 1), 15_000).unref();
      void worker.stop(true).then(() => finish(exitCode));
    } else finish(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGQUIT', onSignal);
  supervisor.on('exit', (code) => {
    exitCode = code;
    void worker.evaluator?.stop().then(() => finish(code));
  });
}
