import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from '../context';
import { renderValue } from '../inspect/render-value';
import { argumentUri, datumUri } from '../jobs/job-input';
import { resultValue } from '../results/submit-result.usecase';
import type { JobRecord } from '../state/job-store';

/** Everything needed to run one slice again outside the stack, as a 5.x worker would get it. */
export interface ReplayBundle {
  job: string;
  sliceNumber: number;
  /** the work function as the client sent it (a data: URI or a URL) */
  workFunctionUri: string;
  /** each argument as a worker gets it (data: URIs, KVIN or JSON; or the URL of remote data) */
  argumentUris: string[];
  /** the slice's datum as a worker gets it */
  datumUri: string;
  dependencies: string[];
  requirePath: string[];
  /** module sources the job depends on that this scheduler holds: { package: { module: source } } */
  modules: Record<string, Record<string, string>>;
  useStrict: boolean;
  /** what the stack recorded for this slice, to compare a replay with */
  recorded: {
    status: string;
    attempts: number;
    errors: number;
    lastError: string | null;
    isError: boolean;
    /** the accepted result (rendered as JSON), when there is one */
    result: unknown;
  };
}

/**
 * `GET /api/jobs/:id/slices/:n/replay`: one slice's work function, datum, arguments and modules, and
 * what the stack recorded for it (read-only; read like the job itself).
 */
export class ReplaySlice {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(job: JobRecord, sliceNumber: number): Promise<ReplayBundle> {
    if (!Number.isInteger(sliceNumber) || sliceNumber < 1 || sliceNumber > job.sliceCount)
      throw new DcpError(
        DcpErrorCode.ENOENT,
        `job ${job.id} has no slice ${sliceNumber} (slices 1…${job.sliceCount})`,
      );
    const [slice] = await this.ctx.store.slices(job.id, { numbers: [sliceNumber] });
    if (!slice) throw new DcpError(DcpErrorCode.ENOENT, `job ${job.id} has no slice ${sliceNumber}`);
    const modules: Record<string, Record<string, string>> = {};
    for (const id of job.options.dependencies) {
      const slash = id.lastIndexOf('/');
      if (slash <= 0) continue;
      const pkg = id.slice(0, slash);
      // stored as the package manager keys them: no leading ./, no .js
      const name = id
        .slice(slash + 1)
        .replace(/^\.?\//, '')
        .replace(/\.js$/, '');
      const source = await this.ctx.packages.source(pkg, name);
      if (source === undefined) continue; // a module from elsewhere (requirePath): the replayer says so
      modules[pkg] ??= {};
      modules[pkg][name] = source;
    }
    let result: unknown = null;
    if (slice.status === 'done' && slice.result) {
      try {
        result = renderValue(resultValue(slice.result));
      } catch (e) {
        result = { error: { name: 'EINVAL', message: `unreadable result: ${(e as Error).message}` } };
      }
    }
    return {
      job: job.id,
      sliceNumber,
      workFunctionUri: job.workFunctionUri,
      argumentUris: job.arguments.map((a) => argumentUri(a, 5)),
      datumUri: datumUri(slice.input, job.range, sliceNumber, 5),
      dependencies: job.options.dependencies,
      requirePath: job.options.requirePath,
      modules,
      useStrict: job.options.useStrict,
      recorded: {
        status: slice.status,
        attempts: slice.attempts,
        errors: slice.errors,
        lastError: slice.lastError ?? null,
        isError: slice.resultIsError,
        result,
      },
    };
  }
}
