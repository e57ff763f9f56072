import { type Command, parseCommand, USAGE, UsageError } from './args';
import {
  envCommand,
  logsCommand,
  resetCommand,
  runCommand,
  snapshotCommand,
  statusCommand,
} from './commands';
import { up } from './up';

async function execute(c: Command): Promise<number> {
  switch (c.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return c.exitCode;
    case 'up':
      return up({ ...c.up, readyTimeoutMs: 90_000 });
    case 'env':
      return envCommand(c.dataDir);
    case 'run':
      return runCommand(c.dataDir, c.program, c.args);
    case 'status':
      return statusCommand(c.dataDir, c.json);
    case 'logs':
      return logsCommand(c.dataDir, c.service, c.follow, c.lines);
    case 'reset':
      return resetCommand(c.dataDir);
    case 'snapshot':
      return c.action === 'list'
        ? snapshotCommand(c.dataDir, 'list')
        : snapshotCommand(c.dataDir, c.action, c.name);
  }
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`dcp-emu: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  return execute(command);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
