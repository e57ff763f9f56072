import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { ArtifactFetcher } from './artifacts';
import type { LineSandbox } from './line-sandbox';
import type { JobMessage, SliceMessage } from './messages';

export interface JobArtifacts {
  workFunction: string;
  arguments: unknown[];
  bytes: number;
}

/** A job this worker holds slices or sandboxes of. */
export interface JobState {
  id: string;
  message: JobMessage;
  name: string;
  /** work function source and arguments, downloaded once per job */
  ready: Promise<JobArtifacts>;
  /** sandboxes assigned to this job, free for its next slice */
  idle: LineSandbox[];
  rejectRetries: number;
  /** slices of this job whose sandboxes a SchedMsg `remove` killed */
  removed: boolean;
}

/**
 * The jobs known to this worker, by id: a job's artifacts (work function, arguments) are fetched once,
 * when its first task arrives; a slice's datum when the slice arrives.
 */
export class Jobs {
  readonly #jobs = new Map<string, JobState>();

  constructor(readonly artifacts: ArtifactFetcher) {}

  get(jobId: string): JobState | undefined {
    return this.#jobs.get(jobId);
  }

  all(): IterableIterator<JobState> {
    return this.#jobs.values();
  }

  /** The job `jobId`, known or new (its artifacts start downloading now). */
  obtain(jobId: string, message: JobMessage): JobState {
    const known = this.#jobs.get(jobId);
    if (known) return known;
    const job: JobState = {
      id: jobId,
      message,
      name: typeof message.public.name === 'string' ? message.public.name : jobId,
      ready: this.#fetchJobArtifacts(message),
      idle: [],
      rejectRetries: 0,
      removed: false,
    };
    job.ready.catch(() => undefined);
    this.#jobs.set(jobId, job);
    return job;
  }

  /** Forgets jobs that hold neither idle sandboxes nor (per `holdsSlices`) slices. */
  forgetUnused(holdsSlices: (job: JobState) => boolean): void {
    for (const [id, job] of this.#jobs) if (job.idle.length === 0 && !holdsSlices(job)) this.#jobs.delete(id);
  }

  /** Drops `sandbox` from every job's idle list (it ended). */
  dropSandbox(sandbox: LineSandbox): void {
    for (const job of this.#jobs.values()) job.idle = job.idle.filter((s) => s !== sandbox);
  }

  /** A slice's input: `datumUri` fetched under the `fetchData` policy. */
  async datum(message: SliceMessage): Promise<{ value: unknown; bytes: number }> {
    const uri = message.datumUri;
    if (typeof uri !== 'string')
      throw new DcpError(DcpErrorCode.EFETCH, `slice ${message.sliceNumber} has no datumUri`);
    return this.artifacts.fetch(uri, 'fetchData');
  }

  async #fetchJobArtifacts(m: JobMessage): Promise<JobArtifacts> {
    let bytes = 0;
    let workFunction = m.workFunction;
    if (!workFunction) {
      if (!m.codeLocation)
        throw new DcpError(DcpErrorCode.EFETCH, 'job has neither workFunction nor codeLocation');
      const a = await this.artifacts.fetch(m.codeLocation, 'fetchWorkFunctions', {
        cache: true,
        asText: true,
      });
      bytes += a.bytes;
      workFunction = String(a.value);
    }
    const args = [...(m.arguments ?? [])];
    if (!m.arguments && m.argumentsLocation) {
      const fetched = await Promise.all(
        m.argumentsLocation.map((l) => this.artifacts.fetch(l.value, 'fetchArguments', { cache: true })),
      );
      m.argumentsLocation.forEach((l, i) => {
        const a = fetched[i];
        if (!a) return;
        bytes += a.bytes;
        args[l.argIndex] = a.value;
      });
    }
    return { workFunction, arguments: args, bytes };
  }
}
