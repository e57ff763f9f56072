import { DcpErrorCode } from '@dcp-emu/protocol';
import { ownedJob } from '../jobs/jobs.usecase';
import { userAddresses } from '../ownership';
import type { KeystoreStore } from '../ports';
import { ok, type Result } from '../result';
import type { BankApi } from '../upstream/bank';
import type { SchedulerApi, SchedulerFault } from '../upstream/scheduler';

export interface FaultDeps {
  keystores: KeystoreStore;
  scheduler: SchedulerApi;
  bank: BankApi;
}

/** One fault of the stack as the portal shows it (`GET /api/faults`). */
export interface FaultRow {
  /** the scheduler's id (`f1`, `f2`, …) */
  id: string;
  kind: SchedulerFault['kind'];
  /** the job it is scoped to, when that job is the user's (null: any job, or `otherJob`) */
  job: string | null;
  /** scoped to a job that is not among the user's: its id is not shown */
  otherJob: boolean;
  /** the worker it is scoped to (identity, payment address or worker id); null: any worker */
  worker: string | null;
  /** how many times it acts before it is spent; 'always': until cleared */
  times: number | 'always';
  /** how many times it acted */
  fired: number;
  /** acted `times` times (or its bank outage ended): listed until cleared, acts no more */
  spent: boolean;
  createdAt: string;
  /** bankDown with a duration: when the bank comes back */
  until: string | null;
  /** what it does, in words (the kind's parameters, its probability) */
  detail: string;
}

const VALUE_CHARS = 60;

function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a fault does, in words, from its kind's parameters. */
export function describeFault(f: SchedulerFault): string {
  let what: string;
  switch (f.kind) {
    case 'crashWorker':
      what = `after ${plural(f.afterSlices, 'accepted result')}, ${f.how === 'kill' ? 'kills the worker (SchedMsg kill)' : 'drops its connections'}`;
      break;
    case 'dropResult':
      what = `accepts a result and throws it away (slice queued again${f.keepLease ? ' when its lease runs out' : ''})`;
      break;
    case 'delayResult':
      what = `holds a result ${f.ms} ms before processing it`;
      break;
    case 'corruptResult':
      what = `replaces a result's value with ${shortJson(f.value ?? 'dcp-emu: corrupted result')}`;
      break;
    case 'delayTask':
      what = `answers a task that hands out slices ${f.ms} ms late`;
      break;
    case 'refuseTask':
      what = f.answer === 'error' ? 'fails task requests (EPIPE)' : 'answers task requests with no work';
      break;
    case 'bankDown':
      what = f.until
        ? `the bank is unreachable (ENOBANK) until ${f.until}`
        : 'the bank is unreachable (ENOBANK) until cleared';
      break;
    case 'disconnectClient':
      what = `after ${plural(f.afterResults, 'result')}, drops the job's client connections`;
      break;
  }
  if ('probability' in f && f.probability < 1)
    what += `; hits with probability ${f.probability} (seed ${f.seed})`;
  return what;
}

/**
 * The faults injected into the stack (the scheduler's list, oldest first). Faults are the stack's, not a
 * user's: every signed-in user sees them, but a fault scoped to another user's job does not name it.
 */
export async function listFaults(deps: FaultDeps, userId: string): Promise<Result<FaultRow[]>> {
  const listed = await deps.scheduler.faults();
  if (!listed.ok) return listed;
  const faults = listed.value.faults;
  const jobs = [...new Set(faults.flatMap((f) => ('job' in f && f.job ? [f.job] : [])))];
  const mine = new Set<string>();
  if (jobs.length) {
    const addresses = await userAddresses(deps, userId);
    for (const id of jobs) {
      const job = await ownedJob(deps, userId, id, addresses);
      if (job.ok) mine.add(id);
      else if (job.error.code !== DcpErrorCode.ENOENT) return job;
    }
  }
  return ok(
    faults.map((f) => {
      const job = 'job' in f && f.job ? f.job : null;
      return {
        id: f.id,
        kind: f.kind,
        job: job !== null && mine.has(job) ? job : null,
        otherJob: job !== null && !mine.has(job),
        worker: 'worker' in f && f.worker ? f.worker : null,
        times: 'times' in f ? f.times : 'always',
        fired: f.fired,
        spent: f.spent,
        createdAt: f.createdAt,
        until: f.until ?? null,
        detail: describeFault(f),
      };
    }),
  );
}
