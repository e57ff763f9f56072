import { type Command, HELP, parseCommand, USAGE, UsageError } from './args';
// each command loads only what it needs (`up` pulls in ethers, the build and process code)
const commands = () => import('./commands.js');

async function execute(c: Command): Promise<number> {
  switch (c.kind) {
    case 'help':
      process.stdout.write((c.command && HELP[c.command]) || USAGE);
      return c.exitCode;
    case 'up':
      return (await import('./up.js')).up({ ...c.up, readyTimeoutMs: 90_000 });
    case 'serve':
      return (await import('./serve.js')).serve(c);
    case 'exec': {
      const o = await (await import('./exec.js')).execOptions(c);
      return (await import('./up.js')).up({
        ...o,
        readyTimeoutMs: 90_000,
        exec: { command: c.command, args: c.args, cleanDataDir: o.cleanDataDir },
      });
    }
    case 'env':
      return (await commands()).envCommand(c.dataDir);
    case 'run':
      return (await commands()).runCommand(c.dataDir, c.program, c.args);
    case 'status':
      return (await commands()).statusCommand(c.dataDir, c.json);
    case 'logs':
      return (await commands()).logsCommand(c.dataDir, c.service, c.follow, c.lines, c.json);
    case 'explain':
      return (await import('./explain.js')).explainCommand(c.dataDir, c.jobId, c.json);
    case 'replay':
      return (await import('./replay.js')).replayCommand(c);
    case 'reset':
      return (await commands()).resetCommand(c.dataDir, c.yes);
    case 'backup':
      return (await import('./backup.js')).backupCommand(c.dataDir, c.path, c.databaseUrl);
    case 'restore':
      return (await import('./backup.js')).restoreCommand(c.dataDir, c.path, c.databaseUrl);
    case 'worker':
      return (await import('./worker-init.js')).workerCommand(c.argv);
    case 'fault':
      return (await import('./fault-command.js')).faultCommand(c);
    case 'snapshot':
      return c.action === 'list'
        ? (await commands()).snapshotCommand(c.dataDir, 'list')
        : (await commands()).snapshotCommand(c.dataDir, c.action, c.name);
    case 'time':
      return (await import('./time-command.js')).timeCommand(c.dataDir, c.action, c.by, c.json);
  }
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const about = argv[0] !== undefined ? HELP[argv[0]] : undefined;
    process.stderr.write(`dcp-emu: ${e.message}\n\n${about ?? USAGE}`);
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
