import { createLogger } from '@dcp-emu/service-kit';
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
  const evaluator = await startEvaluator(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'evaluator stopping');
    void evaluator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`dcp-emu-evaluator: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
