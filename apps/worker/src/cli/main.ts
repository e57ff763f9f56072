import { createLogger } from '@dcp-emu/service-kit';
import { ConfigFileError, type FileConfig, loadConfigFiles } from '../config-file';
import { attachConsole, Dashboard } from '../dashboard';
import { type OutputSettings, openOutput, PidFileError, writePidFile } from '../logging';
import { type CliOptions, configFlag, parseArgs, UsageError, usage } from './args';
import { startWorker } from './run-worker';
import { configNode, effectiveConfig, statusReport } from './show-config';

function fail(message: string, code: number): never {
  process.stderr.write(`dcp-emu-worker: ${message}\n`);
  process.exit(code);
}

/** Flags, environment and config files → options (defaults < config files < environment < flags). */
export function resolveOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): { options: CliOptions; files: string[] } {
  // what a config file sees as dcpConfig.scheduler.location: the flag or environment's, else the default
  const seed: FileConfig = { scheduler: { location: new URL(parseArgs(argv, env, isTTY).schedulerUrl) } };
  const { config, files } = loadConfigFiles(configFlag(argv), env, seed);
  return { options: parseArgs(argv, env, isTTY, config), files };
}

function outputSettings(o: CliOptions): OutputSettings {
  if (o.output === 'logfile') return { mode: 'logfile', logfile: o.logfile };
  if (o.output === 'syslog') return { mode: 'syslog', syslog: o.syslog };
  return { mode: o.output };
}

/** `dcp-emu-worker`: parses the flags, starts evaluator + supervisor, handles SIGINT/SIGTERM/SIGQUIT. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let o: CliOptions;
  let files: string[];
  try {
    ({ options: o, files } = resolveOptions(argv));
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n\n${usage}`, 2);
    if (e instanceof ConfigFileError) fail(e.message, 2);
    throw e;
  }
  if (o.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (o.showConfig !== undefined) {
    const config = effectiveConfig(o, files);
    const node = o.showConfig ? configNode(config, o.showConfig) : config;
    if (node === undefined) fail(`no configuration node "${o.showConfig}"`, 1);
    process.stdout.write(`${JSON.stringify(node, null, 2)}\n`);
    return;
  }
  let removePidFile = () => {};
  if (o.pidFile) {
    try {
      removePidFile = writePidFile(o.pidFile);
    } catch (e) {
      if (e instanceof PidFileError) fail(e.message, 1);
      throw e;
    }
    process.on('exit', () => removePidFile());
  }
  const output = openOutput(outputSettings(o));
  // JSON logs: stdout (console), nowhere (dashboard), or the log file / syslog server
  const logger = createLogger(
    'worker',
    o.output === 'dashboard' ? 'silent' : o.verbose > 0 ? 'debug' : 'warn',
    output.json,
  );
  // the evaluator child shares our terminal: keep its JSON logs off the dashboard
  const env = o.output === 'dashboard' ? { ...process.env, DCP_EMU_LOG_LEVEL: 'error' } : process.env;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    worker = await startWorker(o, logger, env);
  } catch (e) {
    output.err(` ! ${(e as Error).message}`);
    await output.close();
    removePidFile();
    throw e;
  }
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
    attachConsole(supervisor, output);
    for (const line of [
      ` . dcp-emu-worker ${worker.identity.address} → ${o.schedulerUrl}`,
      ` . Payment address: ${worker.paymentAddress}`,
      ` . Evaluator: ${o.evaluatorHost}:${o.evaluatorPort}${worker.evaluator ? ' (started)' : ' (external)'}`,
      ` . Sandboxes: ${supervisor.options.maxSandboxes}`,
      ...(o.pidFile ? [` . Pid file: ${o.pidFile}`] : []),
      ` . Output mode: ${o.output}`,
    ])
      output.out(line);
    if (o.output !== 'console') process.stdout.write(` . dcp-emu-worker: output goes to ${o.output}\n`);
  }
  if (worker.manager && o.output !== 'dashboard') {
    const manager = worker.manager;
    const watching = [
      o.evaluatorManager?.maxLoad !== undefined && !o.evaluatorManager.disabled.includes('load')
        ? `load > ${o.evaluatorManager.maxLoad}`
        : undefined,
      o.evaluatorManager?.disabled.includes('session') ? undefined : 'terminals in use',
    ].filter(Boolean);
    output.out(` . Evaluator manager: pausing work on ${watching.join(', ') || 'nothing'}`);
    if (manager.busy) output.out(` ! Paused: ${manager.busy}`);
    manager.on('busy', (reason) => output.out(` ! Paused: ${reason}`));
    manager.on('idle', () => output.out(' . Resumed: the machine is idle'));
  }
  if (o.reportIntervalS) {
    if (o.output === 'dashboard')
      process.stderr.write('Ignoring --reportInterval in dashboard output mode\n');
    else setInterval(() => output.out(statusReport(supervisor)), o.reportIntervalS * 1000).unref();
  }

  let signals = 0;
  let exitCode = 0;
  let finishing = false;
  const finish = (code: number) => {
    if (finishing) return;
    finishing = true;
    dashboard?.stop();
    removePidFile();
    // the last lines reach the file / syslog server before we go (bounded)
    const forced = setTimeout(() => process.exit(code), 3_000);
    forced.unref();
    void output.close().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1 && signal !== 'SIGQUIT') {
      output.out(` . ${signal}: stopping (finishing running slices; again to stop now)`);
      // safety net: exit whatever happens
      setTimeout(() => finish(exitCode || 1), o.cleanupTimeoutMs + 10_000).unref();
      void worker.stop(false).then(() => finish(exitCode));
    } else if (signals <= 2) {
      output.out(` . ${signal}: stopping now (returning every unfinished slice)`);
      setTimeout(() => finish(exitCode || 1), 15_000).unref();
      void worker.stop(true).then(() => finish(exitCode));
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGQUIT', onSignal);
  supervisor.on('exit', (code) => {
    exitCode = code;
    void worker.evaluator?.stop().then(() => finish(code));
  });
}
