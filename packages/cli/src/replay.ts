import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { schedulerGetAt } from './explain';
import { ROOT } from './stack';
import { runningStack } from './stack-file';

const err = (text: string) => process.stderr.write(`dcp-emu: ${text}\n`);

/** `GET /api/jobs/:id/slices/:n/replay` (apps/scheduler tasks/replay-slice.usecase.ts). */
export const replayBundle = z.object({
  job: z.string(),
  sliceNumber: z.number().int(),
  workFunctionUri: z.string(),
  argumentUris: z.array(z.string()),
  datumUri: z.string(),
  dependencies: z.array(z.string()),
  requirePath: z.array(z.string()),
  modules: z.record(z.string(), z.record(z.string(), z.string())),
  useStrict: z.boolean(),
  recorded: z.object({
    status: z.string(),
    attempts: z.number(),
    errors: z.number(),
    lastError: z.string().nullable(),
    isError: z.boolean(),
    result: z.unknown(),
  }),
});
export type ReplayBundle = z.infer<typeof replayBundle>;

/** One line the replayer (apps/worker bin/dcp-emu-replay.js) writes on its stdout. */
const replayerLine = z.discriminatedUnion('event', [
  z.object({ event: z.literal('console'), level: z.string(), text: z.string(), same: z.number() }),
  z.object({ event: z.literal('progress'), value: z.number().nullable() }),
  z.object({ event: z.literal('custom'), name: z.string(), data: z.string() }),
  z.object({
    event: z.literal('end'),
    script: z.string(),
    outcome: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('complete'), result: z.unknown(), text: z.string() }),
      z.object({
        kind: z.literal('workError'),
        error: z.object({
          name: z.string(),
          message: z.string(),
          stack: z.string().optional(),
          code: z.string().optional(),
        }),
        at: z.object({ line: z.number(), column: z.number(), text: z.string() }).optional(),
      }),
      z.object({ kind: z.literal('workReject'), reason: z.unknown(), retries: z.number() }),
      z.object({ kind: z.literal('failed'), code: z.string(), message: z.string() }),
    ]),
  }),
]);
type ReplayerLine = z.infer<typeof replayerLine>;
type Outcome = Extract<ReplayerLine, { event: 'end' }>['outcome'];

export interface ReplayOptions {
  dataDir: string;
  jobId: string;
  slice: number;
  json: boolean;
  inspect: boolean;
  /** the inspector's port with --inspect (0: any free one) */
  inspectPort: number;
  /** the scheduler to ask instead of the running stack's */
  scheduler: string | undefined;
}

/** The replayer's process: the evaluator needs --no-node-snapshot; --inspect waits for a debugger. */
function replayerArgs(o: ReplayOptions): string[] {
  const bin = join(ROOT, 'apps/worker/bin/dcp-emu-replay.js');
  return o.inspect
    ? [`--inspect-brk=127.0.0.1:${o.inspectPort}`, bin, '--inspect']
    : ['--no-node-snapshot', bin];
}

/** `the stack recorded …`: how the replayed result compares with the slice's accepted result. */
function recordedNote(bundle: ReplayBundle, outcome: Outcome): string | undefined {
  const r = bundle.recorded;
  if (r.status !== 'done')
    return `the stack recorded no result for this slice: ${r.status}${r.lastError ? `; last error: ${r.lastError}` : ''}`;
  const recordedError = (r.result as { error?: { name?: unknown; message?: unknown } } | null)?.error;
  if (outcome.kind === 'workError') {
    if (!r.isError) return `the worker produced a result: ${JSON.stringify(r.result)}`;
    return recordedError?.message === outcome.error.message
      ? 'same error as the worker produced'
      : `the worker produced the error ${String(recordedError?.name)}: ${String(recordedError?.message)}`;
  }
  if (outcome.kind !== 'complete') return undefined;
  if (r.isError)
    return `the worker produced the error ${String(recordedError?.name)}: ${String(recordedError?.message)}`;
  const same = JSON.stringify(outcome.result) === JSON.stringify(r.result);
  return same ? 'same result as the worker produced' : `the worker produced: ${JSON.stringify(r.result)}`;
}

/** The slice's error as text: name, message, the stack, and the work function's line it points at. */
function errorText(outcome: Extract<Outcome, { kind: 'workError' }>): string {
  const e = outcome.error;
  const lines = [`error: ${e.name}: ${e.message}`];
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  for (const f of frames) lines.push(`  ${f.trim()}`);
  if (outcome.at)
    lines.push(
      `work function line ${outcome.at.line}, column ${outcome.at.column}:`,
      `  ${outcome.at.text.trim()}`,
    );
  return lines.join('\n');
}

/**
 * `dcp-emu replay <jobId> <slice>`: fetches the slice's replay bundle from the scheduler and runs
 * it again in our evaluator's sandbox (the worker app's replayer), printing console output and
 * progress as they come, then the result or the error. 0: the slice completed; 1: it threw, or the
 * replay could not run.
 */
export async function replayCommand(o: ReplayOptions): Promise<number> {
  let base: string;
  if (o.scheduler) base = o.scheduler;
  else {
    const info = runningStack(o.dataDir);
    if (typeof info === 'string') {
      err(`${info} (or give the scheduler: --scheduler URL)`);
      return 1;
    }
    if (!info.urls.scheduler) {
      err('the stack has no scheduler');
      return 1;
    }
    base = info.urls.scheduler;
  }
  let bundle: ReplayBundle;
  try {
    const answer = await schedulerGetAt(
      base,
      o.dataDir,
      `api/jobs/${encodeURIComponent(o.jobId)}/slices/${o.slice}/replay`,
    );
    const parsed = replayBundle.safeParse(answer);
    if (!parsed.success) {
      err(`the scheduler's replay answer is not a replay bundle: ${parsed.error.message}`);
      return 1;
    }
    bundle = parsed.data;
  } catch (e) {
    const m = (e as Error).message;
    err(m === 'fetch failed' ? `cannot reach the scheduler at ${base}` : m);
    return 1;
  }

  const started = Date.now();
  const out = (line: string) => {
    if (!o.json) process.stdout.write(`${line}\n`);
  };
  const consoleLines: { level: string; text: string; same: number }[] = [];
  let progressCalls = 0;
  const customEvents: { name: string; data: string }[] = [];
  let outcome: Outcome | undefined;

  const child = spawn(process.execPath, replayerArgs(o), {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (o.inspect)
    process.stderr.write(
      `dcp-emu: waiting for a debugger (chrome://inspect, or attach VS Code to the address above); the work ` +
        `function is the script dcp-job-${bundle.job}/work-function.js — the replayer stops once it is ` +
        'loaded, before the slice runs: set breakpoints there and resume\n',
    );
  const { recorded: _recorded, ...input } = bundle;
  child.stdin.end(JSON.stringify({ ...input, schedulerUrl: base }));
  const lines = createInterface({ input: child.stdout });
  const linesClosed = new Promise<void>((resolve) => lines.once('close', resolve));
  lines.on('line', (line) => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      out(line);
      return;
    }
    const parsed = replayerLine.safeParse(raw);
    if (!parsed.success) return;
    const l = parsed.data;
    switch (l.event) {
      case 'console':
        consoleLines.push({ level: l.level, text: l.text, same: l.same });
        out(`console.${l.level}: ${l.text}${l.same > 1 ? ` (×${l.same})` : ''}`);
        return;
      case 'progress':
        progressCalls++;
        out(`progress: ${l.value === null ? 'indeterminate' : `${l.value}%`}`);
        return;
      case 'custom':
        customEvents.push({ name: l.name, data: l.data });
        out(`work.emit ${l.name}: ${l.data}`);
        return;
      case 'end':
        outcome = l.outcome;
    }
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', (e) => {
      err(`cannot start the replayer: ${e.message}`);
      resolve(1);
    });
  });
  await linesClosed;
  const elapsedMs = Date.now() - started;
  if (!outcome) {
    err(`the replayer ended (exit ${code}) without an outcome`);
    return 1;
  }
  const note = recordedNote(bundle, outcome);
  if (o.json) {
    const body: Record<string, unknown> = {
      job: bundle.job,
      slice: bundle.sliceNumber,
      ...(outcome.kind === 'complete' ? { result: outcome.result } : {}),
      ...(outcome.kind === 'workError' ? { error: { ...outcome.error, at: outcome.at ?? null } } : {}),
      ...(outcome.kind === 'workReject' ? { rejected: { reason: outcome.reason } } : {}),
      ...(outcome.kind === 'failed'
        ? { error: { name: 'DCPError', code: outcome.code, message: outcome.message } }
        : {}),
      console: consoleLines,
      progress: progressCalls,
      ...(customEvents.length ? { events: customEvents } : {}),
      elapsedMs,
      recorded: bundle.recorded,
    };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    switch (outcome.kind) {
      case 'complete':
        out(`result: ${outcome.text}`);
        break;
      case 'workError':
        out(errorText(outcome));
        break;
      case 'workReject':
        out(`work.reject: ${JSON.stringify(outcome.reason)}`);
        break;
      case 'failed':
        out(`replay failed: ${outcome.code}: ${outcome.message}`);
        break;
    }
    if (note) out(`(${note})`);
    out(`(${progressCalls} progress report${progressCalls === 1 ? '' : 's'}, ${elapsedMs} ms)`);
  }
  return outcome.kind === 'complete' ? 0 : 1;
}
