/** `env` and `run`: the DCP environment of the running stack, and a program run with it. */
import { type DataDirOf, parse, UsageError } from './args-common';

export const ENV_HELP = `usage: dcp-emu env [--data-dir DIR]

Print the export lines that point unmodified DCP programs at the running stack.

example:  eval "$(dcp-emu env)"
`;

export const RUN_HELP = `usage: dcp-emu run [--data-dir DIR] <program.js> [args…]

Run a program with the running stack's DCP environment; exits with its code. Options go before the
program; everything after it is the program's.

example:  dcp-emu run node_modules/dcp-client/examples/nodejs/simple-job.js
`;

export type EnvCommand = { kind: 'env'; dataDir: string };
export type RunCommand = { kind: 'run'; dataDir: string; program: string; args: string[] };

/** `dcp-emu env …` arguments. */
export function parseEnv(rest: string[], dataDirOf: DataDirOf): EnvCommand {
  const { values } = parse(rest, { 'data-dir': { type: 'string' } });
  return { kind: 'env', dataDir: dataDirOf(values['data-dir']) };
}

/** `dcp-emu run …` arguments: options only before the program. */
export function parseRun(rest: string[], dataDirOf: DataDirOf): RunCommand {
  // options only before the program; everything after it belongs to the program
  let i = 0;
  let dataDir: string | undefined;
  while (rest[i]?.startsWith('--')) {
    const flag = rest[i] as string;
    if (flag === '--data-dir') {
      dataDir = rest[i + 1];
      if (dataDir === undefined) throw new UsageError('--data-dir needs a directory');
      i += 2;
    } else if (flag.startsWith('--data-dir=')) {
      dataDir = flag.slice('--data-dir='.length);
      i += 1;
    } else throw new UsageError(`unknown option ${flag} for run (options go before the program)`);
  }
  const program = rest[i];
  if (!program) throw new UsageError('run needs a program: dcp-emu run <program.js> [args…]');
  return { kind: 'run', dataDir: dataDirOf(dataDir), program, args: rest.slice(i + 1) };
}
