import type { DcpSession, Generation } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { argumentUri, datumUri } from '../jobs/job-input';
import { sliceStorageFields } from '../jobs/result-storage';
import type { TaskAuthorizations } from '../results/authorization';
import type { JobRecord, LeasedSlice } from '../state/job-store';
import type { LeaseKeeper } from './lease-keeper';
import { groupOpaqueId, needsRegistryScan, privateKeys, verifiedGroups } from '../groups/membership';
import { meetsRequirements, paysMinimumWage, sandboxRequirements, taskSize } from './matching';
import { claimedGroups, type TaskRequestRecord, WorkerRequests } from './worker-requests';

const ids = z.array(z.string()).nullish();

/** `requestTask` (4.x workers, dcp-worker 3.3.19) and `requestTask@3` (5.x, localExec). */
export const requestTaskSchema = z
  .object({
    targetLoad: z
      .object({ cpu: z.number(), gpu: z.number().optional(), longSlices: z.number().optional() })
      .loose()
      .optional(),
    coreStats: z.object({ worker: z.string().optional() }).loose().optional(),
    capabilities: z.unknown().optional(),
    paymentAddress: z.string().optional(),
    jobAddresses: ids,
    jobIds: ids,
    workerComputeGroups: z
      .array(
        z
          .object({
            joinKey: z.string().optional(),
            joinHashHash: z.string().optional(),
            id: z.unknown().optional(),
            opaqueId: z.unknown().optional(),
            joinAddress: z.unknown().optional(),
          })
          .loose(),
      )
      .nullish(),
    minimumWage: z.object({ CPU: z.number().optional() }).loose().nullish(),
    previouslyWorkedJobs: ids,
    rejectedJobs: ids,
    unresolvedJobs: ids,
    fetchState: z.number().optional(),
    returnAllSlices: z.unknown().optional(),
  })
  .loose();
export type RequestTaskData = z.infer<typeof requestTaskSchema>;

/** The lease key of a worker: its identity plus the worker id it reports (shared ids stay apart). */
export function workerKey(peer: string, workerId: string | undefined): string {
  return `${peer.toLowerCase()}/${workerId ?? 'anonymous'}`;
}

/**
 * Hand a worker a task: jobs it may run (requirements vs capabilities, compute groups verified from
 * joinHashHash, minimum wage vs offer, jobAddresses / rejected / unresolved / previously worked
 * discrete jobs), best offers first, each sized from the job's measured slice time; every slice is
 * leased to the worker. The reply carries our signed authorization, echoed back with results.
 */
export class RequestTask {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly leases: LeaseKeeper,
    private readonly authorizations: TaskAuthorizations,
    /** each worker's last request and what it got (for `explain`) */
    readonly requests = new WorkerRequests(),
  ) {}

  async execute(
    data: RequestTaskData,
    peer: string,
    generation: Generation,
    session: DcpSession,
  ): Promise<unknown> {
    const workerId = data.coreStats?.worker;
    const key = workerKey(peer, workerId);
    const claims = data.workerComputeGroups ?? undefined;
    const registry = needsRegistryScan(claims)
      ? new Map((await this.ctx.groups.list()).map((g) => [g.joinKey, g]))
      : await this.ctx.groups.byKey(privateKeys(claims));
    const groups = verifiedGroups(claims, session.dcpsid, registry);
    this.leases.alive(key, session, {
      address: peer,
      ...(data.paymentAddress ? { paymentAddress: data.paymentAddress } : {}),
      cores: Math.max(0, Math.floor(data.targetLoad?.cpu ?? 0)),
      groups: [...groups].sort(),
    });
    if (data.returnAllSlices) {
      const n = this.ctx.store.requeueWorker(key, this.ctx.clock.now());
      if (n) {
        this.ctx.logger.info({ worker: key, slices: n }, 'worker returned all slices');
        this.leases.requeued();
      }
    }
    const record: TaskRequestRecord = {
      at: this.ctx.clock.now(),
      cores: Math.max(0, data.targetLoad?.cpu ?? 0),
      capabilities: data.capabilities,
      claimed: claimedGroups(claims),
      groups: [...groups],
      minimumWage: data.minimumWage?.CPU ?? 0,
      only: [...(data.jobAddresses ?? []), ...(data.jobIds ?? [])],
      skipped: [...(data.rejectedJobs ?? []), ...(data.unresolvedJobs ?? [])],
      worked: data.previouslyWorkedJobs ?? [],
      got: [],
    };
    this.requests.record(key, record);
    if (!data.targetLoad || data.targetLoad.cpu <= 0) return this.#noWork(generation);

    const only = new Set([...(data.jobAddresses ?? []), ...(data.jobIds ?? [])]);
    const skip = new Set([...(data.rejectedJobs ?? []), ...(data.unresolvedJobs ?? [])]);
    const worked = new Set(data.previouslyWorkedJobs ?? []);
    const cores = Math.max(1, Math.floor(data.targetLoad.cpu));
    let budget = Math.max(cores, this.ctx.tuning.maxTaskSlices);

    const picked: { job: JobRecord; slices: LeasedSlice[] }[] = [];
    for (const job of this.ctx.store.runnableJobs((id) => this.ctx.escrow.paused(id))) {
      if (budget <= 0) break;
      if (only.size ? !only.has(job.id) : job.options.localExec) continue;
      if (skip.has(job.id)) continue;
      if (job.options.discrete && worked.has(job.id)) continue;
      if (!job.options.localExec && !job.options.groups.some((g) => groups.has(g))) continue;
      if (!meetsRequirements(job.requirements, data.capabilities)) continue;
      if (!paysMinimumWage(job, this.ctx.tuning, data.minimumWage ?? undefined)) continue;
      // its client is behind on results: more would only wait in the scheduler's memory
      if (this.ctx.events.backlog(job.id) >= this.ctx.tuning.maxEventBacklog) continue;
      const want = Math.min(budget, taskSize(job, cores, this.ctx.tuning));
      const slices = this.ctx.store.leaseSlices(job.id, want, key, this.ctx.clock.now());
      if (!slices.length) continue;
      budget -= slices.length;
      picked.push({ job, slices });
    }
    record.got = picked.map((p) => ({ job: p.job.id, slices: p.slices.length }));
    if (!picked.length) return this.#noWork(generation);
    this.ctx.logger.debug(
      { worker: key, task: picked.map((p) => ({ job: p.job.id, slices: p.slices.length })) },
      'task handed out',
    );
    return this.#task(picked, workerId ?? '', generation);
  }

  #noWork(generation: Generation): unknown {
    if (generation === 5) return {};
    return { owner: this.ctx.identity.address, signature: null, auth: {}, body: {} };
  }

  #task(
    picked: { job: JobRecord; slices: LeasedSlice[] }[],
    workerId: string,
    generation: Generation,
  ): unknown {
    const authSlices: Record<string, number[]> = {};
    const schedulerId: Record<string, string> = { address: this.ctx.identity.address };
    const newJobs: Record<string, unknown> = {};
    const task: Record<string, unknown[]> = {};
    for (const { job, slices } of picked) {
      authSlices[job.id] = slices.map((s) => s.sliceNumber);
      schedulerId[job.id] = job.id;
      newJobs[job.id] = this.#jobMessage(job, generation);
      task[job.id] = slices.map((s) => ({
        sliceNumber: s.sliceNumber,
        jobAddress: job.id,
        jobId: job.id,
        datumUri: datumUri(s.input, job.range, s.sliceNumber, generation),
        isEstimationSlice: false,
        isLongSlice: false,
        cotaskCount: 0,
        ...sliceStorageFields(job.options.resultStorage),
      }));
    }
    const auth = { workerId, authSlices, schedulerId, jobCommissions: {} };
    return {
      owner: this.ctx.identity.address,
      signature: this.authorizations.issue(auth),
      auth,
      body: { newJobs, task, computeGroupOrigins: {} },
    };
  }

  #jobMessage(job: JobRecord, generation: Generation): Record<string, unknown> {
    const requirements = sandboxRequirements(job.requirements, job.options);
    return {
      address: job.id,
      jobId: job.id,
      opaqueId: job.id,
      jobCgId: `${job.id}.1`,
      codeLocation: job.workFunctionUri,
      argumentsLocation: job.arguments.map((a, i) => ({ value: argumentUri(a, generation), argIndex: i })),
      requirements,
      needCapabilities: typeof job.requirements === 'number' ? job.requirements : 0,
      dependencies: job.options.dependencies,
      requirePath: job.options.requirePath,
      modulePath: [],
      worktime:
        generation === 4 ? { name: job.options.worktime.name, version: '1.0.0' } : job.options.worktime,
      // workers read public.computeGroups[0]?.opaqueId (e.g. to check a result storage's origin)
      public: {
        ...job.public,
        computeGroups: job.options.groups.map((g) => ({
          opaqueId: groupOpaqueId(g),
          name: g,
          description: '',
        })),
      },
      metrics: jobMetrics(job),
      useStrict: job.options.useStrict,
      workerConsole: job.options.workerConsole,
      localExec: job.options.localExec,
    };
  }
}

/** The job metrics workers size their concurrency by (§4.8 of the worker spec). */
export function jobMetrics(job: JobRecord): Record<string, number> {
  return {
    sliceCPUTime: job.sliceCpuMs,
    sliceCPUDensity: job.sliceCpuDensity || 1,
    sliceGPUTime: 0,
    sliceGPUDensity: 0,
    lastSliceNumber: job.sliceCount,
    measuredSlices: job.measuredSlices,
    alpha: 0.5,
  };
}
