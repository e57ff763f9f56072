import { readFileSync } from 'node:fs';
import type { ExplainReport } from '@dcp-emu/contracts';
import { adminTokenFile, runningStack, type StackInfo } from './stack-file';

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(`dcp-emu: ${text}\n`);

/** What `GET /api/jobs/:id/explain` answers (the scheduler's tasks/explain-job.usecase.ts). */
export type ExplainAnswer = ExplainReport;

function adminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** GET a scheduler route as the stack's admin; `{error}` answers become an Error with their message. */
export async function schedulerGet<T>(info: StackInfo, path: string): Promise<T> {
  const base = info.urls.scheduler;
  if (!base) throw new Error('the stack has no scheduler');
  return schedulerGetAt<T>(base, info.dataDir, path);
}

/** GET a route of the scheduler at `base`, with the admin token of `dataDir` when it has one. */
export async function schedulerGetAt<T>(base: string, dataDir: string, path: string): Promise<T> {
  const token = adminToken(dataDir);
  const res = await fetch(new URL(path, base), {
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new Error(
      e?.message ? `${e.code ?? res.status}: ${e.message}` : `HTTP ${res.status}: ${text.slice(0, 200)}`,
    );
  }
  return body as T;
}

/** The explain answer as text: the job, then one line per worker. */
export function formatExplain(a: ExplainAnswer): string {
  const j = a.job;
  const lines = [
    `job ${j.id}: ${j.status}; slices ${j.slices.done}/${j.slices.total} done, ${j.slices.leased} being computed, ${j.slices.queued} queued`,
    `  compute groups: ${j.groups.join(', ') || 'none'}; requirements: ${JSON.stringify(j.requirements)}`,
    `  offer: ${j.offer} DCC/slice${j.wage !== null ? ` (${Number(j.wage.toPrecision(4))} DCC per CPU-hour at ${j.sliceCpuMs.toFixed(1)} ms/slice)` : ' (not measured yet)'}${j.fundsShort ? '; ENOFUNDS: waiting for funds' : ''}`,
  ];
  if (j.refusedOrigins.length)
    lines.push(
      `  origins refused to its work function: ${j.refusedOrigins.join(', ')} (dcp-emu up --allow-origin <origin>)`,
    );
  lines.push('', `why: ${a.summary}`);
  if (a.workers.length) {
    lines.push('', 'workers:');
    for (const w of a.workers)
      lines.push(
        `  ${w.worker}${w.connected ? '' : ' (gone)'}  [${w.reason}] ${w.message}`,
        `      last asked ${w.lastRequest ?? 'never'}; cores ${w.cores ?? '?'}; groups ${w.groups.join(', ') || 'none'}; minimum wage ${w.minimumWage ?? '?'}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `dcp-emu explain <jobId>`: why the job's slices are not being computed. */
export async function explainCommand(dataDir: string, jobId: string, json: boolean): Promise<number> {
  const info = runningStack(dataDir);
  if (typeof info === 'string') {
    err(info);
    return 1;
  }
  try {
    const a = await schedulerGet<ExplainAnswer>(info, `api/jobs/${encodeURIComponent(jobId)}/explain`);
    out(json ? `${JSON.stringify(a, null, 2)}\n` : formatExplain(a));
    return 0;
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
}
