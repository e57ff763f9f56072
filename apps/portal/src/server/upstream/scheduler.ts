import {
  computeGroupList,
  createdComputeGroup,
  type createComputeGroupRequest,
  cancelResult,
  deletedComputeGroup,
  eventList,
  faultList,
  type faultView,
  jobDetail,
  type jobEvent,
  jobGroups,
  jobList,
  type jobSummary,
  resultList,
  sliceList,
  type sliceView,
  workerList,
} from '@dcp-emu/contracts';
import { z } from 'zod';
import type { Result } from '../result';
import type { Upstream } from './upstream';

/** Answers of the scheduler's inspection REST API, checked with its contracts (@dcp-emu/contracts). */
export type JobSummary = z.output<typeof jobSummary>;
export type JobDetail = z.output<typeof jobDetail>;
export type SliceView = z.output<typeof sliceView>;
export type JobEvent = z.output<typeof jobEvent>;
/** A fault injected into the stack, as the scheduler lists it (spec with defaults, fired, spent…). */
export type SchedulerFault = z.output<typeof faultView>;
export type SchedulerGroup = z.output<typeof computeGroupList>['groups'][number];

/** `GET /api/jobs/:id/explain`: why each worker is not computing the job. */
export const explainSchema = z.object({
  job: z.object({
    id: z.string(),
    status: z.string(),
    slices: z.object({ queued: z.number(), leased: z.number(), done: z.number(), total: z.number() }),
    groups: z.array(z.string()),
    offer: z.number(),
    sliceCpuMs: z.number(),
    wage: z.number().nullable(),
    fundsShort: z.boolean(),
    refusedOrigins: z.array(z.string()),
  }),
  blocked: z.object({ reason: z.string(), message: z.string() }).nullable(),
  workers: z.array(
    z.object({
      worker: z.string(),
      connected: z.boolean(),
      lastRequest: z.string().nullable(),
      cores: z.number().nullable(),
      groups: z.array(z.string()),
      minimumWage: z.number().nullable(),
      reason: z.string(),
      message: z.string(),
    }),
  ),
  summary: z.string(),
});
export type JobExplanation = z.output<typeof explainSchema>;

/** Typed calls on the scheduler's REST API. */
export function schedulerApi(up: Upstream) {
  const enc = encodeURIComponent;
  return {
    /** jobs deployed by or paid from any of these addresses (the scheduler matches every spelling) */
    jobsOf: (accounts: string[], limit = 1000) =>
      up.call('GET', `api/jobs?account=${enc(accounts.join(','))}&limit=${limit}`, jobList),
    job: (id: string) => up.call('GET', `api/jobs/${enc(id)}`, jobDetail),
    slices: (id: string, limit = 1000) =>
      up.call('GET', `api/jobs/${enc(id)}/slices?limit=${limit}`, sliceList),
    results: (id: string, limit = 1000) =>
      up.call('GET', `api/jobs/${enc(id)}/results?limit=${limit}`, resultList),
    explain: (id: string) => up.call('GET', `api/jobs/${enc(id)}/explain`, explainSchema),
    events: (id: string) => up.call('GET', `api/jobs/${enc(id)}/events`, eventList),
    cancel: (id: string, reason: string) =>
      up.call('POST', `api/jobs/${enc(id)}/cancel`, cancelResult, { reason }),
    workers: () => up.call('GET', 'api/workers', workerList),
    /** the faults injected into the stack (the scheduler's open, read-only list; no admin token needed) */
    faults: () => up.call('GET', 'api/faults', faultList),
    groups: () => up.call('GET', 'api/compute-groups?jobs=all', computeGroupList),
    createGroup: (body: z.input<typeof createComputeGroupRequest>) =>
      up.call('POST', 'api/compute-groups', createdComputeGroup, body),
    deleteGroup: (joinKey: string) =>
      up.call('DELETE', `api/compute-groups/${enc(joinKey)}`, deletedComputeGroup),
    removeJobFromGroup: (joinKey: string, job: string) =>
      up.call('DELETE', `api/compute-groups/${enc(joinKey)}/jobs/${enc(job)}`, jobGroups),
  } satisfies Record<string, (...args: never[]) => Promise<Result<unknown>>>;
}
export type SchedulerApi = ReturnType<typeof schedulerApi>;
