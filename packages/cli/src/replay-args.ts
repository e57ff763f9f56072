/** `replay`: one slice of a job run again here, in the worker's sandbox. */
import { type DataDirOf, int, parse, UsageError } from './args-common';

export const REPLAY_HELP = `usage: dcp-emu replay <jobId> <slice> [--json] [--inspect [--inspect-port N]] [--scheduler URL] [--data-dir DIR]

Run one slice of a job again, locally, in our worker's sandbox (the evaluator's isolate, prelude,
module loading and limits): the scheduler's replay bundle (GET /api/jobs/:id/slices/:n/replay) gives
the work function, the slice's datum, the arguments and the modules. Prints the console output and
progress reports (at most one per 0.1 s, as the worker gets them) as they come, then the result —
compared with the result the worker produced — or the error: name, message and stack, with the
work function's line (line 1 is the line the function starts on). Exit code 0 when the slice
completes, 1 when it throws (or cannot be replayed), 2 on usage errors.

  --json                one JSON object at the end: result or error, console lines, progress
                        reports, elapsed ms and what the stack recorded for the slice
  --inspect             run it under Node's inspector (node --inspect-brk) and wait for a debugger
                        (chrome://inspect, VS Code "attach"); the work function is the script
                        dcp-job-<jobId>/work-function.js; the replayer stops once it is loaded: set
                        breakpoints, resume. No isolate limits in this mode (a plain vm context)
  --inspect-port N      the inspector's port (default 9229; 0 = any free one)
  --scheduler URL       ask this scheduler instead of the running stack's (admin token of the
                        data dir, if any)

example:  dcp-emu replay 0x1234…abcd 3
          console.log: squaring 3
          progress: 100%
          result: 9
          (same result as the worker produced)
          (1 progress report, 182 ms)
`;

export type ReplayCommand = {
  kind: 'replay';
  dataDir: string;
  jobId: string;
  slice: number;
  json: boolean;
  inspect: boolean;
  inspectPort: number;
  scheduler: string | undefined;
};

/** `dcp-emu replay <jobId> <slice> …` arguments. */
export function parseReplay(rest: string[], dataDirOf: DataDirOf): ReplayCommand {
  const { values, positionals } = parse(
    rest,
    {
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      inspect: { type: 'boolean', default: false },
      'inspect-port': { type: 'string' },
      scheduler: { type: 'string' },
    },
    true,
  );
  const [jobId, sliceText, extra] = positionals;
  if (!jobId || sliceText === undefined || extra !== undefined)
    throw new UsageError('usage: dcp-emu replay <jobId> <slice> [--json] [--inspect]');
  const slice = Number(sliceText);
  if (!/^\d+$/.test(sliceText) || !Number.isSafeInteger(slice) || slice < 1)
    throw new UsageError(`the slice number is a whole number from 1 on, got "${sliceText}"`);
  const inspectPort = int(values['inspect-port'] as string | undefined, '--inspect-port', 0, 65535);
  if (inspectPort !== undefined && !values.inspect)
    throw new UsageError('--inspect-port goes with --inspect');
  const scheduler = values.scheduler as string | undefined;
  if (scheduler !== undefined && !/^https?:\/\/[^/]/.test(scheduler))
    throw new UsageError(`--scheduler needs an http(s) URL, got "${scheduler}"`);
  return {
    kind: 'replay',
    dataDir: dataDirOf(values['data-dir']),
    jobId,
    slice,
    json: values.json as boolean,
    inspect: values.inspect as boolean,
    inspectPort: inspectPort ?? 9229,
    scheduler,
  };
}
