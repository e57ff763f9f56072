import { inspect } from 'node:util';
import {
  type AssignJob,
  ArtifactFetcher,
  type FetchRequestData,
  type FetchResponseData,
  guardedFetch,
  type LineSandbox,
  OriginPolicy,
  type SandboxHost,
  type SliceOutcome,
} from '@dcp-emu/worker-core';
import { z } from 'zod';

/**
 * What `dcp-emu replay` hands the replayer (on its stdin): the scheduler's replay bundle
 * (`GET /api/jobs/:id/slices/:n/replay`), the part a sandbox needs.
 */
export const replayInput = z.object({
  job: z.string().min(1),
  sliceNumber: z.number().int().min(1),
  workFunctionUri: z.string().min(1),
  argumentUris: z.array(z.string()),
  datumUri: z.string().min(1),
  dependencies: z.array(z.string()),
  requirePath: z.array(z.string()),
  modules: z.record(z.string(), z.record(z.string(), z.string())),
  useStrict: z.boolean(),
  /** the scheduler the bundle came from: its origin may serve the job's remote arguments and data */
  schedulerUrl: z.string().optional(),
});
export type ReplayInput = z.infer<typeof replayInput>;

/** The script name the work function gets in stacks and in the inspector. */
export function workFunctionUrl(job: string): string {
  return `dcp-job-${job}/work-function.js`;
}

/**
 * The work function with a `sourceURL` comment after its last line: the prelude evaluates
 * `(<work function>)`, so its lines keep their numbers and V8 names the script
 * `dcp-job-<id>/work-function.js` in stacks and in the inspector's source list.
 */
export function withSourceUrl(workFunction: string, job: string): string {
  return `${workFunction}\n//# sourceURL=${workFunctionUrl(job)}\n`;
}

/** What the slice does while it runs, as it happens. */
export type ReplayEvent =
  | { type: 'console'; level: string; text: string; same: number }
  | { type: 'progress'; value: number | null }
  | { type: 'custom'; name: string; data: string };

/**
 * Where a stack points into the work function: the first `work-function.js:L:C` frame, with that
 * line of the source (lines as the client wrote the function, the first is line 1).
 */
export function workFunctionFrame(
  stack: string,
  workFunction: string,
  job: string,
): { line: number; column: number; text: string } | undefined {
  const url = workFunctionUrl(job);
  for (const frame of stack.split('\n')) {
    const at = frame.lastIndexOf(`${url}:`);
    if (at < 0) continue;
    const m = /^(\d+):(\d+)/.exec(frame.slice(at + url.length + 1));
    if (!m) continue;
    const line = Number(m[1]);
    return { line, column: Number(m[2]), text: workFunction.split('\n')[line - 1] ?? '' };
  }
  return undefined;
}

/** Opens one sandbox with `host` answering its `dependency` and `fetchRequest` requests. */
export type OpenSandbox = (host: SandboxHost) => Promise<LineSandbox>;

/** Console arguments (sandbox values, KVIN-decoded) as one line of text, as console.log prints them. */
function consoleText(message: unknown): string {
  if (!Array.isArray(message)) return message === undefined ? '' : String(message);
  return message.map((m) => (typeof m === 'string' ? m : inspect(m, { depth: 6, colors: false }))).join(' ');
}

/**
 * Runs one slice again as our worker runs it: fetches the work function, arguments and datum
 * (`data:` URIs, or the URLs of remote data), opens a sandbox, assigns the job (answering
 * `dependency` with the bundle's modules), then `main(datum)`; reports console output, progress
 * and custom events through `on` and resolves with how the slice ended. `beforeWork` runs once the
 * work function is loaded, before its slice starts (`--inspect` pauses there).
 */
export async function replaySlice(
  input: ReplayInput,
  open: OpenSandbox,
  on: (event: ReplayEvent) => void,
  options: { beforeWork?: (() => void) | undefined } = {},
): Promise<{ outcome: SliceOutcome; workFunction: string }> {
  const origins = new OriginPolicy(input.schedulerUrl, [], { allowLoopback: true });
  const artifacts = new ArtifactFetcher(origins);
  const [workFunction, args, datum] = await Promise.all([
    artifacts.fetch(input.workFunctionUri, 'fetchWorkFunctions', { asText: true }),
    Promise.all(input.argumentUris.map((u) => artifacts.fetch(u, 'fetchArguments'))),
    artifacts.fetch(input.datumUri, 'fetchData'),
  ]);
  const host: SandboxHost = {
    modules: async (ids) => moduleGroup(input.modules, ids),
    fetch: (req) => workerFetch(origins, req),
  };
  const sandbox = await open(host);
  try {
    sandbox.on('console', (p) =>
      on({
        type: 'console',
        level: typeof p.level === 'string' ? p.level : 'log',
        text: consoleText(p.message),
        same: Number(p.same) > 0 ? Number(p.same) : 1,
      }),
    );
    sandbox.on('progress', (value) => on({ type: 'progress', value: value ?? null }));
    sandbox.on('custom', (p) =>
      on({
        type: 'custom',
        name: String(p.customEvent ?? p.eventName ?? 'custom'),
        data: inspect(p.data, { depth: 6 }),
      }),
    );
    const job: AssignJob = {
      id: input.job,
      arguments: args.map((a) => a.value),
      dependencies: input.dependencies,
      modulePath: [],
      requirePath: input.requirePath,
      public: { name: `replay of slice ${input.sliceNumber} of ${input.job}` },
      workFunction: withSourceUrl(String(workFunction.value), input.job),
      useStrict: input.useStrict,
      worktime: { name: 'map-basic', version: '1.0.0' },
    };
    // progress reports as the worker gets them: at most one per 0.1 s (calls in between are counted, not sent)
    await sandbox.assign(job, { environment: {} }, { progressThrottle: 0.1 });
    options.beforeWork?.();
    return { outcome: await sandbox.work(datum.value), workFunction: String(workFunction.value) };
  } finally {
    sandbox.close();
  }
}

/** The bundle's modules for a `dependency` request: the packages the ids name (all the job's if unknown). */
function moduleGroup(modules: ReplayInput['modules'], ids: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const id of ids) {
    const slash = id.lastIndexOf('/');
    const pkg = slash > 0 ? id.slice(0, slash) : id;
    const files = modules[pkg];
    if (files) out[pkg] = files;
  }
  return Object.keys(out).length ? out : modules;
}

/** A work function's own `fetch()`: under the worker's policy (loopback and the job's origin). */
async function workerFetch(origins: OriginPolicy, req: FetchRequestData): Promise<FetchResponseData> {
  const res = await guardedFetch(
    origins,
    req.url,
    'workerFetch',
    {
      method: req.method ?? 'GET',
      headers: req.headersEntries ?? [],
      body: req.bodyBuffer ? new Uint8Array(req.bodyBuffer) : undefined,
    },
    (url, init) => fetch(url, init),
  );
  return {
    url: res.url,
    status: res.status,
    statusText: res.statusText,
    headersEntries: [...res.headers.entries()],
    bodyBuffer: new Uint8Array(await res.arrayBuffer()),
  };
}
