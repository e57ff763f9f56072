import inspector from 'node:inspector';
import { createLogger } from '@dcp-emu/service-kit';
import { LineSandbox } from '@dcp-emu/worker-core';
import { loadEvaluatorConfig } from '../evaluator/config';
import { hasNoNodeSnapshot, type RunningEvaluator, startEvaluator } from '../evaluator/server';
import { EvaluatorSandbox } from '../supervisor/evaluator-sandbox';
import { describeOutcome } from './outcome';
import {
  type OpenSandbox,
  type ReplayEvent,
  replayInput,
  replaySlice,
  workFunctionFrame,
  workFunctionUrl,
} from './replay-slice';
import { vmChannel } from './vm-channel';

/**
 * `dcp-emu-replay [--inspect]`: the replayer `dcp-emu replay` starts. Reads one replay input (JSON)
 * on stdin, runs the slice — in our evaluator (isolated-vm, the evaluator's limits from
 * `DCP_EMU_EVALUATOR_*`), or with `--inspect` in a `vm` context for Node's inspector — and writes
 * one JSON object per line on stdout: `{"event":"console"|"progress"|"custom",…}` as they happen,
 * then `{"event":"end","outcome":…}`. Exit code 0 once the outcome is written, 2 on bad input.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const inspectMode = argv.includes('--inspect');
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const parsed = replayInput.safeParse(safeJson(text));
  if (!parsed.success) {
    process.stderr.write(`dcp-emu-replay: bad replay input: ${parsed.error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const input = parsed.data;
  const write = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const on = ({ type, ...e }: ReplayEvent) => write({ event: type, ...e });
  let evaluator: RunningEvaluator | undefined;
  let open: OpenSandbox;
  if (inspectMode) {
    const forever = 2_147_000_000; // paused in a debugger: no ENOPROGRESS, no call timeouts
    open = (host) =>
      LineSandbox.start(vmChannel(), host, { generalMs: forever, progressMs: forever, connectMs: forever });
  } else {
    if (!hasNoNodeSnapshot()) {
      process.stderr.write('dcp-emu-replay: node must run with --no-node-snapshot (isolated-vm)\n');
      process.exitCode = 2;
      return;
    }
    const config = { ...loadEvaluatorConfig(), host: '127.0.0.1', port: 0 };
    const logger = createLogger('replay', 'warn', { write: (line) => process.stderr.write(line) });
    evaluator = await startEvaluator(config, logger);
    const port = evaluator.port;
    open = (host) => EvaluatorSandbox.open('127.0.0.1', port, host);
  }
  try {
    const { outcome, workFunction } = await replaySlice(input, open, on, {
      beforeWork: inspectMode
        ? () => {
            // dcp-emu replay --inspect: the work function is loaded; it is the script
            // dcp-job-<id>/work-function.js in the debugger's sources — set breakpoints there, then resume.
            // biome-ignore lint/suspicious/noDebugger: the pause the --inspect mode is for
            debugger;
          }
        : undefined,
    });
    const described = describeOutcome(outcome);
    const stack = outcome.kind === 'workError' ? outcome.error.stack : undefined;
    const at = typeof stack === 'string' ? workFunctionFrame(stack, workFunction, input.job) : undefined;
    write({
      event: 'end',
      script: workFunctionUrl(input.job),
      outcome: { ...described, ...(at ? { at } : {}) },
    });
  } catch (e) {
    write({
      event: 'end',
      script: workFunctionUrl(input.job),
      outcome: {
        kind: 'failed',
        code: (e as { code?: string }).code ?? 'ERROR',
        message: (e as Error).message,
      },
    });
  } finally {
    await evaluator?.close();
    // a debugger still attached would keep this process waiting for it to disconnect
    if (inspectMode) inspector.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`dcp-emu-replay: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
