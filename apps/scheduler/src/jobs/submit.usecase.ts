import { createHash } from 'node:crypto';
import { DcpError, DcpErrorCode, type Generation } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import type { SubmitAuthorization } from '../ports/bank.port';
import type { JobOptions, NewJob } from '../state/job-store';
import { parseArguments, parseRange, rangeLength, storeUrlInput } from './job-input';
import { resultStorageFields, resultStorageOf } from './result-storage';

const strings = z.array(z.string()).optional();

/** `submit@5` (dcp-client 5.x) and `submit@2` (4.x) request data; unknown fields pass. */
export const submitSchema = z
  .object({
    paymentAccount: z.string().min(1),
    workFunctionURI: z.string().min(1),
    job: z.string().min(1).max(200).optional(),
    id: z.string().min(1).max(200).optional(),
    mvMultSlicePayment: z.number().optional(),
    absoluteSlicePayment: z.number().optional(),
    requirePath: strings,
    dependencies: strings,
    requirements: z.unknown().optional(),
    localExec: z.boolean().optional(),
    discrete: z.boolean().optional(),
    useStrict: z.boolean().optional(),
    workerConsole: z.boolean().optional(),
    isOpen: z.boolean().optional(),
    description: z.string().optional(),
    name: z.string().optional(),
    link: z.string().optional(),
    dataRange: z.unknown().optional(),
    dataPattern: z.string().optional(),
    sliceCount: z.number().int().min(0).optional(),
    marshaledDataValues: z.unknown().optional(),
    worktime: z.object({ name: z.string(), version: z.string().optional() }).loose().optional(),
    marshaledArguments: z.unknown().optional(),
    ...resultStorageFields,
  })
  .loose();
export type SubmitData = z.infer<typeof submitSchema>;

export interface SubmitResult {
  job: string;
  escrow: string;
  status: string;
  lastSliceNumber: number;
}

/** 4.x jobs get an address-like id, derived from the client's id so retried submits land on one job. */
function v4JobAddress(owner: string, clientId: string): string {
  return `0x${createHash('sha256').update(`${owner.toLowerCase()}:${clientId}`).digest('hex').slice(0, 40)}`;
}

function requirementsFlags(requirements: unknown): { discrete?: boolean; useStrict?: boolean } {
  if (!requirements || typeof requirements !== 'object') return {};
  const r = requirements as { discrete?: unknown; useStrict?: unknown };
  return {
    discrete: typeof r.discrete === 'boolean' ? r.discrete : undefined,
    useStrict: typeof r.useStrict === 'boolean' ? r.useStrict : undefined,
  };
}

/** localExec / remote data sets: `{0: url, 1: url, …, length}` or an array of URLs. */
function urlList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const n = Number(o.length ?? Object.keys(o).filter((k) => /^\d+$/.test(k)).length);
    return Array.from({ length: n }, (_, i) => String(o[i]));
  }
  throw new DcpError(DcpErrorCode.EINVAL, 'marshaledDataValues must list URLs');
}

/**
 * Deploy a job: check the payment authorization, record the job (idempotent per job id: clients
 * retry), hold its funds through the bank port. Range and pattern jobs are complete at once; array
 * jobs receive slices through addSliceData until closeJob (or stay open when `isOpen`).
 */
export class SubmitJob {
  constructor(private readonly ctx: SchedulerContext) {}

  async execute(
    data: SubmitData,
    peer: string,
    generation: Generation,
    authorized: boolean,
    /** the client's signed payment authorization, forwarded to the bank (none: a metered bank refuses) */
    authorization: SubmitAuthorization = { payload: {}, auth: {}, accessor: peer },
  ): Promise<SubmitResult> {
    if (!authorized)
      throw new DcpError(
        DcpErrorCode.EPERM,
        `payment account ${data.paymentAccount} did not authorize this job`,
      );
    const clientId = generation === 4 ? data.id : (data.job ?? data.id);
    if (!clientId) throw new DcpError(DcpErrorCode.EINVAL, 'submit needs a job id');
    const id = generation === 4 ? v4JobAddress(peer, clientId) : clientId;

    const existing = await this.ctx.store.getJob(id);
    if (existing) {
      if (existing.owner.toLowerCase() !== peer.toLowerCase())
        throw new DcpError(DcpErrorCode.EPERM, `job ${id} belongs to another identity`);
      return {
        job: id,
        escrow: existing.paymentAccount,
        status: existing.status,
        lastSliceNumber: existing.sliceCount,
      };
    }

    let inputKind: NewJob['inputKind'] = 'array';
    let range: NewJob['range'];
    let sliceCount = 0;
    let inputs: string[] = [];
    let inputClosed = false;
    if (data.dataRange !== undefined && data.dataRange !== null) {
      range = parseRange(data.dataRange);
      inputKind = 'range';
      sliceCount = rangeLength(range);
      inputClosed = true;
    } else if (data.dataPattern) {
      const count = data.sliceCount ?? 0;
      const pattern = data.dataPattern;
      inputs = Array.from({ length: count }, (_, i) =>
        storeUrlInput(pattern.replaceAll('{slice}', String(i + 1))),
      );
      inputClosed = true;
    } else if (data.marshaledDataValues !== undefined && data.marshaledDataValues !== null) {
      inputs = urlList(data.marshaledDataValues).map(storeUrlInput);
      inputClosed = !data.isOpen;
    }

    const flags = requirementsFlags(data.requirements);
    const resultStorage = resultStorageOf(data);
    const options: JobOptions = {
      dependencies: data.dependencies ?? [],
      requirePath: data.requirePath ?? [],
      worktime: { name: data.worktime?.name ?? 'map-basic', version: data.worktime?.version ?? '^1.0.0' },
      localExec: data.localExec === true,
      workerConsole: data.workerConsole === true,
      discrete: data.discrete ?? flags.discrete ?? false,
      useStrict: data.useStrict ?? flags.useStrict ?? false,
      // No compute group until the client's addJobToGroups says which (dcp-client sends it right after
      // submit, public by default): a private job's slices must not reach public workers meanwhile.
      groups: [],
      ...(resultStorage ? { resultStorage } : {}),
    };
    const job: NewJob = {
      id,
      owner: peer,
      paymentAccount: data.paymentAccount,
      generation,
      inputClosed,
      inputKind,
      range,
      sliceCount,
      workFunctionUri: data.workFunctionURI,
      arguments: parseArguments(data.marshaledArguments),
      requirements: data.requirements ?? null,
      public: {
        name: data.name ?? `Ad-Hoc Job ${id.slice(-6)}`,
        description: data.description ?? '',
        link: data.link ?? '',
      },
      options,
      absolutePayment: data.absoluteSlicePayment ?? 0,
      mvMultiplier: data.mvMultSlicePayment ?? 0,
    };
    // Escrow before the job exists: ENOFUNDS (or a refused authorization) leaves nothing behind.
    await this.ctx.escrow.open(
      {
        id,
        paymentAccount: data.paymentAccount,
        absolutePayment: job.absolutePayment,
        mvMultiplier: job.mvMultiplier,
        localExec: options.localExec,
      },
      sliceCount + inputs.length,
      authorization,
    );
    const { job: stored } = await this.ctx.store.createJob(job, new Date(this.ctx.clock.now()), inputs);
    this.ctx.logger.info(
      {
        job: id,
        owner: peer,
        generation,
        inputKind,
        slices: stored.sliceCount,
        localExec: options.localExec,
        ...(resultStorage ? { resultStorage: resultStorage.location } : {}),
      },
      'job submitted',
    );
    this.ctx.events.wakeWorkers();
    return { job: id, escrow: data.paymentAccount, status: 'running', lastSliceNumber: stored.sliceCount };
  }
}
