/** The slices of a job as stored rows and, while it runs, its live state (a cold path: listings). */
import { type PrismaDb, withDbRetry } from '@dcp-emu/db';
import type { SliceRecord } from './job-record';
import type { SliceTracker } from './slice-tracker';

/** Slice numbers per `IN (…)` query (SQLite binds at most 999 parameters through Prisma's adapter). */
const IN_LIST_MAX = 500;

/**
 * Slices of a job as the inspection API and fetchResult see them: the stored rows, and for a running
 * job (its tracker) the slices not done yet from memory, with their leases.
 */
export async function readSlices(
  prisma: PrismaDb,
  jobId: string,
  tracker: SliceTracker | undefined,
  leaseExpires: (worker: string, leasedAt: number) => number,
  opts: { from?: number; limit?: number; numbers?: number[] } = {},
): Promise<SliceRecord[]> {
  const limit = opts.limit ?? (opts.numbers ? undefined : 1000);
  const from = opts.from ?? 1;
  const query = (numbers?: number[]) =>
    withDbRetry(() =>
      prisma.schedSlice.findMany({
        where: {
          jobId,
          ...(numbers ? { sliceNumber: { in: numbers } } : {}),
          ...(!numbers && tracker ? { sliceNumber: { gte: from, lt: from + (limit ?? 1000) } } : {}),
          ...(!numbers && !tracker && opts.from ? { sliceNumber: { gte: opts.from } } : {}),
        },
        orderBy: { sliceNumber: 'asc' },
        take: tracker ? undefined : limit,
      }),
    );
  // an IN list stays below SQLite's bound-parameter limit as Prisma's adapter sets it (999)
  const rows: Awaited<ReturnType<typeof query>> = [];
  if (!opts.numbers) rows.push(...(await query()));
  else
    for (let i = 0; i < opts.numbers.length; i += IN_LIST_MAX)
      rows.push(...(await query(opts.numbers.slice(i, i + IN_LIST_MAX))));
  if (opts.numbers && !tracker) rows.sort((a, b) => a.sliceNumber - b.sliceNumber);
  const stored = rows.map(
    (r): SliceRecord => ({
      jobId: r.jobId,
      sliceNumber: r.sliceNumber,
      status: r.status === 'done' ? 'done' : 'queued',
      input: r.input,
      attempts: r.attempts,
      errors: r.errors,
      lastError: r.lastError ?? undefined,
      result: r.result ? (JSON.parse(r.result) as SliceRecord['result']) : undefined,
      resultIsError: r.resultIsError,
      worker: r.worker ?? undefined,
      cpuMs: r.cpuMs ?? undefined,
      gpuMs: r.gpuMs ?? undefined,
      bytesIn: r.bytesIn ?? undefined,
      bytesOut: r.bytesOut ?? undefined,
      completedAt: r.completedAt ?? undefined,
    }),
  );
  if (!tracker) return stored;
  // a running job: every slice of the window, done ones as stored, the others from memory
  const byNumber = new Map(stored.map((s) => [s.sliceNumber, s]));
  const numbers =
    opts.numbers ??
    Array.from(
      { length: Math.max(0, Math.min(tracker.size, from + (limit ?? 1000) - 1) - from + 1) },
      (_, k) => from + k,
    );
  const out: SliceRecord[] = [];
  for (const n of numbers) {
    if (n < 1 || n > tracker.size) continue;
    const status = tracker.status(n);
    const row = byNumber.get(n);
    if (status === 'done') {
      if (row) out.push(row);
      continue;
    }
    const lease = tracker.leases.get(n);
    out.push({
      jobId,
      sliceNumber: n,
      status,
      input: tracker.input(n),
      attempts: tracker.attempts(n),
      errors: tracker.errors.get(n) ?? 0,
      lastError: row?.lastError,
      resultIsError: false,
      ...(lease
        ? {
            leaseWorker: lease.worker,
            leaseExpires: new Date(leaseExpires(lease.worker, lease.leasedAt)),
          }
        : {}),
    });
  }
  return out;
}
