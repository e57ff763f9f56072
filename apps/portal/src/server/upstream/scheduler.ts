import { z } from 'zod';
import type { Result } from '../result';
import type { Upstream } from './upstream';

/** Answers of the scheduler's inspection REST API (apps/scheduler/src/inspect), as far as the portal reads them. */

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

export const jobSummarySchema = z.object({
  id: z.string(),
  owner: z.string(),
  paymentAccount: z.string(),
  status: z.string(),
  name: optionalString,
  description: optionalString,
  totalSlices: z.number(),
  completedSlices: z.number(),
  distributed: z.number().optional(),
  queued: z.number().nullish(),
  errors: z.number(),
  deployTime: z.string(),
  finishedTime: optionalString,
  cancelReason: optionalString,
});
export type JobSummary = z.output<typeof jobSummarySchema>;

export const jobDetailSchema = jobSummarySchema.extend({
  slices: z.object({ queued: z.number(), leased: z.number(), done: z.number() }),
  metering: z
    .object({ cpuMs: z.number(), gpuMs: z.number(), bytesIn: z.number(), bytesOut: z.number() })
    .partial()
    .optional(),
  groups: z.array(z.string()).default([]),
});
export type JobDetail = z.output<typeof jobDetailSchema>;

export const sliceSchema = z.object({
  sliceNumber: z.number(),
  status: z.string(),
  worker: optionalString,
  leaseExpires: optionalString,
  attempts: z.number(),
  errors: z.number(),
  lastError: optionalString,
  metering: z
    .object({ cpuMs: z.number().nullish(), bytesIn: z.number().nullish(), bytesOut: z.number().nullish() })
    .nullish(),
  completedAt: optionalString,
  /** metered schedulers: what the slice pays, to whom, and whether the bank settled it */
  payment: z
    .object({ payTo: z.string(), amount: z.string(), commission: z.string(), settled: z.boolean() })
    .loose()
    .nullish(),
});
export type SliceView = z.output<typeof sliceSchema>;

export const resultSchema = z.object({
  sliceNumber: z.number(),
  isError: z.boolean(),
  value: z.unknown(),
});

export const eventSchema = z.object({
  seq: z.number(),
  name: z.string(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
});
export type JobEvent = z.output<typeof eventSchema>;

export const workerSchema = z.object({
  worker: z.string(),
  slices: z.array(z.object({ jobId: z.string(), sliceNumber: z.number(), leaseExpires: optionalString })),
  /** workers that asked for work: connected (or gone within a lease period), cores offered, last seen */
  connected: z.boolean().optional(),
  cores: z.number().optional(),
  lastSeen: optionalString,
});

export const groupSchema = z.object({
  joinKey: z.string(),
  name: z.string(),
  owner: z.string(),
  commissionRate: z.string(),
  createdAt: z.string(),
  jobs: z.array(z.string()).default([]),
});
export type SchedulerGroup = z.output<typeof groupSchema>;

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
      up.call(
        'GET',
        `api/jobs?account=${enc(accounts.join(','))}&limit=${limit}`,
        z.object({ jobs: z.array(jobSummarySchema), total: z.number() }),
      ),
    job: (id: string) => up.call('GET', `api/jobs/${enc(id)}`, jobDetailSchema),
    slices: (id: string, limit = 1000) =>
      up.call('GET', `api/jobs/${enc(id)}/slices?limit=${limit}`, z.object({ slices: z.array(sliceSchema) })),
    results: (id: string, limit = 1000) =>
      up.call(
        'GET',
        `api/jobs/${enc(id)}/results?limit=${limit}`,
        z.object({ results: z.array(resultSchema) }),
      ),
    explain: (id: string) => up.call('GET', `api/jobs/${enc(id)}/explain`, explainSchema),
    events: (id: string) =>
      up.call('GET', `api/jobs/${enc(id)}/events`, z.object({ events: z.array(eventSchema) })),
    cancel: (id: string, reason: string) =>
      up.call('POST', `api/jobs/${enc(id)}/cancel`, z.object({ cancelled: z.boolean() }), { reason }),
    workers: () => up.call('GET', 'api/workers', z.object({ workers: z.array(workerSchema) })),
    groups: () => up.call('GET', 'api/compute-groups?jobs=all', z.object({ groups: z.array(groupSchema) })),
    createGroup: (body: { joinKey: string; name: string; commissionRate: string; owner?: string }) =>
      up.call(
        'POST',
        'api/compute-groups',
        z.object({ group: groupSchema.omit({ jobs: true }), joinSecret: z.string().optional() }),
        body,
      ),
    deleteGroup: (joinKey: string) =>
      up.call('DELETE', `api/compute-groups/${enc(joinKey)}`, z.object({ deleted: z.string() })),
    removeJobFromGroup: (joinKey: string, job: string) =>
      up.call(
        'DELETE',
        `api/compute-groups/${enc(joinKey)}/jobs/${enc(job)}`,
        z.object({ job: z.string(), groups: z.array(z.string()) }),
      ),
  } satisfies Record<string, (...args: never[]) => Promise<Result<unknown>>>;
}
export type SchedulerApi = ReturnType<typeof schedulerApi>;
