/**
 * The last `requestTask` of each worker and what it got: enough to explain, for any job, why a
 * connected worker is not computing it (`explain-job.usecase.ts`). One small record per worker,
 * replaced on every request; nothing here is on the matching path's decisions.
 */
export interface TaskRequestRecord {
  /** when it asked (epoch ms) */
  at: number;
  /** cores it asked work for (`targetLoad.cpu`); 0: its sandboxes were all busy */
  cores: number;
  /** capabilities as sent (a 5.x mask or a 4.x tree) */
  capabilities: unknown;
  /** compute groups it claimed (join keys, ids or join addresses as sent) */
  claimed: string[];
  /** of those, the ones whose membership proof verified (join keys; 'public' included) */
  groups: string[];
  /** its minimum wage, DCC per CPU-hour (0: none) */
  minimumWage: number;
  /** it asked for these jobs only (`jobAddresses` / `jobIds`) */
  only: string[];
  /** jobs it refused or could not resolve (`rejectedJobs` / `unresolvedJobs`) */
  skipped: string[];
  /** discrete jobs it worked already */
  worked: string[];
  /** what it got: slices per job (empty: nothing) */
  got: { job: string; slices: number }[];
}

const MAX_WORKERS = 10_000;

export class WorkerRequests {
  readonly #last = new Map<string, TaskRequestRecord>();

  record(worker: string, request: TaskRequestRecord): void {
    this.#last.delete(worker); // oldest first, for the cap below
    this.#last.set(worker, request);
    if (this.#last.size > MAX_WORKERS) {
      const oldest = this.#last.keys().next().value;
      if (oldest !== undefined) this.#last.delete(oldest);
    }
  }

  last(worker: string): TaskRequestRecord | undefined {
    return this.#last.get(worker);
  }

  /** Forget workers no longer known (gone longer than a lease period). */
  keepOnly(workers: Iterable<string>): void {
    const keep = new Set(workers);
    for (const k of this.#last.keys()) if (!keep.has(k)) this.#last.delete(k);
  }
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** The names a worker's `workerComputeGroups` claim, as sent. */
export function claimedGroups(claims: readonly Record<string, unknown>[] | null | undefined): string[] {
  return (claims ?? []).flatMap((c) => {
    const name = text(c.joinKey) ?? text(c.id) ?? text(c.opaqueId) ?? text(c.joinAddress);
    return name ? [name] : [];
  });
}
