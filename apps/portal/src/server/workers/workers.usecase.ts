import { userAddresses } from '../ownership';
import type { KeystoreStore } from '../ports';
import { ok, type Result } from '../result';
import type { BankApi } from '../upstream/bank';
import type { SchedulerApi } from '../upstream/scheduler';
import { earnings } from '../bank/bank.usecase';

export interface WorkerDeps {
  keystores: KeystoreStore;
  scheduler: SchedulerApi;
  bank: BankApi;
}

export interface WorkerRow {
  /** `<identity>/<worker id>` as the scheduler keys leases */
  worker: string;
  /** sandboxes busy right now (one slice each) */
  busy: number;
  /** connected now (false: gone within the last lease period; null: seen only through its leases) */
  connected: boolean | null;
  /** cores it offers */
  cores: number | null;
  lastSeen: string | null;
  /** current slices; a job that is not the user's shows as `job: null` */
  slices: { job: string | null; sliceNumber: number | null }[];
}

export interface WorkersPage {
  workers: WorkerRow[];
  earnings: { address: string; label: string; earned: string; payments: number }[];
}

/**
 * Workers connected to the scheduler (idle or computing) and those holding slices, and what the user's accounts earned as payment
 * addresses. Other users' jobs are not named: their slices show only as busy sandboxes.
 */
export async function workersPage(deps: WorkerDeps, userId: string): Promise<Result<WorkersPage>> {
  const [listed, earned, mine] = await Promise.all([
    deps.scheduler.workers(),
    earnings(deps, userId),
    userAddresses(deps, userId),
  ]);
  if (!listed.ok) return listed;
  if (!earned.ok) return earned;
  const ownedJobs = new Map<string, boolean>();
  const isMine = async (job: string) => {
    if (!ownedJobs.has(job)) {
      const j = await deps.scheduler.job(job);
      ownedJobs.set(
        job,
        j.ok &&
          (mine.all.has(j.value.owner.toLowerCase()) || mine.all.has(j.value.paymentAccount.toLowerCase())),
      );
    }
    return ownedJobs.get(job) === true;
  };
  const workers: WorkerRow[] = [];
  for (const w of listed.value.workers) {
    const slices: WorkerRow['slices'] = [];
    for (const s of w.slices)
      slices.push(
        (await isMine(s.jobId))
          ? { job: s.jobId, sliceNumber: s.sliceNumber }
          : { job: null, sliceNumber: null },
      );
    workers.push({
      worker: w.worker,
      busy: w.slices.length,
      slices,
      connected: w.connected ?? null,
      cores: w.cores ?? null,
      lastSeen: w.lastSeen ?? null,
    });
  }
  workers.sort((a, b) => a.worker.localeCompare(b.worker));
  return ok({ workers, earnings: earned.value });
}
