import { createLogger, describePortHolder, portHolder } from '@dcp-emu/service-kit';
import { applyArgs, loadEvaluatorConfig, usage } from './config';
import { hasNoNodeSnapshot, startEvaluator } from './server';

/** `dcp-emu-evaluator`: parse env + flags, start the evaluator, stop on SIGINT/SIGTERM. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let config: ReturnType<typeof applyArgs>;
  try {
    config = applyArgs(loadEvaluatorConfig(), argv);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
    return;
  }
  if (config === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!hasNoNodeSnapshot()) {
    process.stderr.write('dcp-emu-evaluator: node must run with --no-node-snapshot (isolated-vm)\n');
    process.exitCode = 2;
    return;
  }
  const logger = createLogger('evaluator', config.logLevel);
  let evaluator: Awaited<ReturnType<typeof startEvaluator>>;
  try {
    evaluator = await startEvaluator(config, logger);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const holder = portHolder(config.port);
    const who = holder ? describePortHolder(holder) : `port ${config.port} is in use`;
    logger.fatal({ port: config.port, holder }, `cannot listen: ${who}`);
    process.stderr.write(`dcp-emu-evaluator: cannot listen on ${config.host}:${config.port}: ${who}\n`);
    process.exit(EXIT_PORT_IN_USE);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'evaluator stopping');
    void evaluator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (config.exitWithParent) {
    /* the parent holds the other end of our stdin: when it dies (even kill -9) the pipe closes */
    const parentGone = () => {
      if (!stopping) stop('parent gone');
    };
    process.stdin.on('data', () => {});
    process.stdin.once('end', parentGone);
    process.stdin.once('close', parentGone);
    process.stdin.once('error', parentGone);
    process.stdin.resume();
  }
}

/** Exit code when the port is taken (EADDRINUSE): the supervisor should not retry in a loop. */
export const EXIT_PORT_IN_USE = 98;

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`dcp-emu-evaluator: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
