import { z } from 'zod';
import { address, errorBody } from './common';

/**
 * The scheduler's inspection REST API (`/api/…`): the scheduler parses queries and bodies with these
 * schemas, its use cases answer the response types, the portal checks the answers with them, and
 * `GET /api/openapi.json` is generated from them (schedulerOpenApi).
 */

// ---- requests ----

export const jobListQuery = z.object({
  owner: z.string().optional(),
  /** comma-separated addresses: jobs deployed by or paid from any of them (any spelling) */
  account: z.string().max(10_000).optional(),
  /** comma-separated: running,finished,cancelled */
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const slicePageQuery = z.object({
  from: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export const groupListQuery = z.object({
  /** `all`: list jobs of every status, not only the running ones (anything else: the running ones) */
  jobs: z
    .string()
    .optional()
    .meta({ examples: ['all'] }),
});

export const cancelJobRequest = z
  .object({ reason: z.string().max(500).optional() })
  .default({})
  .meta({ id: 'CancelJobRequest' });

export const schedMsgRequest = z
  .object({
    command: z.enum([
      'announce',
      'kill',
      'restart',
      'reload',
      'remove',
      'addPriorityJob',
      'removePriorityJob',
    ]),
    payload: z.record(z.string(), z.unknown()).default({}),
    /** identity address or worker id; none: every worker */
    target: z.string().optional(),
  })
  .meta({ id: 'SchedMsgRequest' });

export const createComputeGroupRequest = z
  .strictObject({
    joinKey: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s,]+$/, 'no spaces or commas')
      .refine((k) => k !== 'public', 'the public group exists already')
      .optional(),
    /**
     * instead of a joinKey: a group joined as `{id, joinAddress, joinSecret}`, whose joinHash dcp-client
     * salts with the joinAddress (`eh1(joinAddress + ' ' + secret)`, the EIP-55 form dcp's Address prints)
     */
    joinAddress: address.optional(),
    joinSecret: z.string().min(1).max(500).optional(),
    name: z.string().min(1).max(200),
    commissionRate: z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string'),
    /** identity address of the creator (the scheduler's own address when absent) */
    owner: address.optional(),
  })
  .refine((d) => !d.joinKey !== !d.joinAddress, 'either a joinKey or a joinAddress')
  .meta({ id: 'CreateComputeGroupRequest' });

// ---- answers ----

const iso = z.string().meta({ description: 'ISO-8601 time' });

const sliceCounts = z.object({ queued: z.number().int(), leased: z.number().int(), done: z.number().int() });

/** A job's status as pheme reports it (`compute.status`, dcp-util) and the REST listing shows it. */
export const jobSummary = z
  .object({
    id: z.string(),
    job: z.string(),
    address: z.string(),
    owner: z.string(),
    paymentAccount: z.string(),
    status: z.enum(['running', 'finished', 'cancelled']),
    runStatus: z.enum(['running', 'finished', 'cancelled']),
    name: z.string().optional(),
    description: z.string().optional(),
    link: z.string().optional(),
    totalSlices: z.number().int(),
    total: z.number().int(),
    completedSlices: z.number().int(),
    computed: z.number().int(),
    distributed: z.number().int(),
    queued: z.number().int().optional(),
    errors: z.number().int(),
    deployTime: iso,
    finishedTime: iso.optional(),
    cancelReason: z.string().optional(),
  })
  .meta({ id: 'JobSummary' });

export const jobList = z
  .object({ jobs: z.array(jobSummary), total: z.number().int() })
  .meta({ id: 'JobList' });

export const jobDetail = jobSummary
  .extend({
    slices: sliceCounts,
    inputKind: z.enum(['array', 'range']),
    generation: z.union([z.literal(4), z.literal(5)]),
    subscribers: z.number().int(),
    metering: z.object({ cpuMs: z.number(), gpuMs: z.number(), bytesIn: z.number(), bytesOut: z.number() }),
    metrics: z.object({ sliceCpuMs: z.number(), measuredSlices: z.number().int() }),
    offer: z.object({ absolute: z.number(), marketValueMultiplier: z.number() }),
    groups: z.array(z.string()),
  })
  .meta({ id: 'JobDetail' });

export const slicePayment = z.object({
  payTo: z.string(),
  amount: z.string(),
  commission: z.string(),
  commissionTo: z.string(),
  /** captured by the bank (or written off) */
  settled: z.boolean(),
  /** the bank's journal transaction */
  transaction: z.string().optional(),
});

export const sliceView = z
  .object({
    sliceNumber: z.number().int(),
    status: z.enum(['queued', 'leased', 'done']),
    input: z.unknown().meta({ description: 'the decoded input, rendered as JSON' }),
    worker: z.string().optional(),
    leaseExpires: iso.optional(),
    attempts: z.number().int(),
    errors: z.number().int(),
    lastError: z.string().optional(),
    metering: z
      .object({
        cpuMs: z.number().optional(),
        gpuMs: z.number().optional(),
        bytesIn: z.number().optional(),
        bytesOut: z.number().optional(),
      })
      .optional(),
    completedAt: iso.optional(),
    /** metered schedulers: what the slice pays, to whom, and whether the bank settled it */
    payment: slicePayment.optional(),
  })
  .meta({ id: 'Slice' });

export const sliceList = z.object({ slices: z.array(sliceView) }).meta({ id: 'SliceList' });

export const escrowView = z
  .object({
    paymentAccount: z.string(),
    hold: z.string().nullable(),
    perSlice: z.string(),
    commissionRate: z.string(),
    commissionTo: z.string(),
    fundedSlices: z.number().int(),
    /** waiting for funds since, or null */
    shortSince: iso.nullable(),
    released: z.boolean(),
    owed: z.string(),
    paid: z.string(),
  })
  .meta({ id: 'Escrow' });

export const jobEscrow = z
  .object({ escrow: escrowView.nullable().meta({ description: 'null on an unmetered scheduler' }) })
  .meta({ id: 'JobEscrow' });

export const resultView = z
  .object({
    sliceNumber: z.number().int(),
    isError: z.boolean(),
    value: z.unknown().meta({ description: 'the decoded result, rendered as JSON' }),
  })
  .meta({ id: 'Result' });

export const resultList = z.object({ results: z.array(resultView) }).meta({ id: 'ResultList' });

export const jobEvent = z
  .object({
    /** stored events: their sequence; optional ones: the negative of their own sequence */
    seq: z.number().int(),
    jobId: z.string().optional(),
    name: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: iso,
    /** stored (reliable: stop, nofunds) or kept in memory (console, error, noprogress, custom) */
    stored: z.boolean(),
    /** stored events: whether a client took it */
    delivered: z.boolean().optional(),
  })
  .meta({ id: 'JobEvent' });

export const eventList = z.object({ events: z.array(jobEvent) }).meta({ id: 'EventList' });

export const cancelResult = z.object({ cancelled: z.boolean() }).meta({ id: 'CancelResult' });

export const workerView = z
  .object({
    /** `<address>` or `<address>/<worker id>` */
    worker: z.string(),
    /** the slices it holds leases on */
    slices: z.array(
      z.object({ jobId: z.string(), sliceNumber: z.number().int(), leaseExpires: iso.optional() }),
    ),
    /** workers that asked for work (connected, or gone within a lease period): what they said */
    address: z.string().optional(),
    paymentAddress: z.string().optional(),
    cores: z.number().optional(),
    groups: z.array(z.string()).optional(),
    connected: z.boolean().optional(),
    since: iso.optional(),
    lastSeen: iso.optional(),
  })
  .meta({ id: 'Worker' });

export const workerList = z.object({ workers: z.array(workerView) }).meta({ id: 'WorkerList' });

/**
 * Why a worker is not computing a job (`GET /api/jobs/:id/explain`). The per-worker reasons follow
 * the matching order of the scheduler's RequestTask (the first that applies is named); job-wide
 * ones apply to every worker. `computing`: it got slices of this job on its last request;
 * `eligible`: nothing stops it, it gets slices on its next request; `origin-refused`: it rejected
 * the job and the job's errors show origins workers refused to fetch from.
 */
export const explainReason = z.enum([
  'computing',
  'eligible',
  'no-workers',
  'job-not-running',
  'no-slices-queued',
  'no-funds',
  'sandbox-busy',
  'not-requested',
  'rejected',
  'origin-refused',
  'discrete-worked',
  'local-exec',
  'not-in-group',
  'requirements',
  'below-minimum-wage',
  'other-jobs-first',
  'disconnected',
]);

export const explainWorker = z
  .object({
    worker: z.string(),
    address: z.string(),
    connected: z.boolean(),
    lastRequest: iso.nullable(),
    cores: z.number().nullable(),
    groups: z.array(z.string()),
    minimumWage: z.number().nullable(),
    /** what it got on its last request */
    got: z.array(z.object({ job: z.string(), slices: z.number().int() })),
    reason: explainReason,
    message: z.string(),
  })
  .meta({ id: 'ExplainWorker' });

/** "Why is my job idle?": the job's state and, for every worker asking for work, why it is not computing it. */
export const explainReport = z
  .object({
    job: z.object({
      id: z.string(),
      status: z.string(),
      slices: z.object({ queued: z.number(), leased: z.number(), done: z.number(), total: z.number() }),
      groups: z.array(z.string()),
      requirements: z.unknown(),
      /** DCC per slice */
      offer: z.number(),
      /** measured CPU ms per slice (0: not measured yet) */
      sliceCpuMs: z.number(),
      /** DCC per CPU-hour the offer amounts to (null until measured) */
      wage: z.number().nullable(),
      fundsShort: z.boolean(),
      /** origins workers refused to fetch for this job (from its recent error events) */
      refusedOrigins: z.array(z.string()),
    }),
    /** job-wide reason no worker computes it, if any */
    blocked: z.object({ reason: explainReason, message: z.string() }).nullable(),
    workers: z.array(explainWorker),
    /** one line: the answer to "why is my job idle?" */
    summary: z.string(),
  })
  .meta({ id: 'ExplainReport' });

export type ExplainReason = z.infer<typeof explainReason>;
export type ExplainWorker = z.infer<typeof explainWorker>;
export type ExplainReport = z.infer<typeof explainReport>;

/** A compute group as listed: no join hash, no secret. */
export const computeGroupView = z
  .object({
    /** the registry key: the joinKey, or the joinAddress of an address-salted group */
    joinKey: z.string(),
    /** its opaque id, by which dcp-client may name it (`{id, joinAddress}`) */
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    commissionRate: z.string(),
    createdAt: iso,
  })
  .meta({ id: 'ComputeGroup' });

export const computeGroupList = z
  .object({ groups: z.array(computeGroupView.extend({ jobs: z.array(z.string()) })) })
  .meta({ id: 'ComputeGroupList' });

export const createdComputeGroup = z
  .object({
    group: computeGroupView,
    /** a generated join secret: in this answer only */
    joinSecret: z.string().optional(),
  })
  .meta({ id: 'CreatedComputeGroup' });

export const deletedComputeGroup = z.object({ deleted: z.string() }).meta({ id: 'DeletedComputeGroup' });

export const jobGroups = z
  .object({
    job: z.string(),
    groups: z.array(z.string()).meta({ description: 'the groups the job is left in' }),
  })
  .meta({ id: 'JobGroups' });

export const schedMsgResult = z
  .object({ delivered: z.number().int().meta({ description: 'how many workers got it' }) })
  .meta({ id: 'SchedMsgResult' });

/** Every named schema of the scheduler's REST API, for `components.schemas` of its OpenAPI document. */
export const schedulerApiSchemas = {
  Error: errorBody,
  JobSummary: jobSummary,
  JobList: jobList,
  JobDetail: jobDetail,
  Slice: sliceView,
  SliceList: sliceList,
  Escrow: escrowView,
  JobEscrow: jobEscrow,
  Result: resultView,
  ResultList: resultList,
  JobEvent: jobEvent,
  EventList: eventList,
  CancelResult: cancelResult,
  Worker: workerView,
  WorkerList: workerList,
  ComputeGroup: computeGroupView,
  ComputeGroupList: computeGroupList,
  CreatedComputeGroup: createdComputeGroup,
  DeletedComputeGroup: deletedComputeGroup,
  JobGroups: jobGroups,
  SchedMsgResult: schedMsgResult,
} satisfies Record<string, z.ZodType>;

/** Every named request body of the scheduler's REST API (components.schemas, as accepted). */
export const schedulerRequestSchemas = {
  CancelJobRequest: cancelJobRequest,
  SchedMsgRequest: schedMsgRequest,
  CreateComputeGroupRequest: createComputeGroupRequest,
} satisfies Record<string, z.ZodType>;

/** What a scheduler route answers (the server returns `SchedulerAnswer<'JobList'>`, the portal reads its output). */
export type SchedulerAnswer<K extends keyof typeof schedulerApiSchemas> = z.input<
  (typeof schedulerApiSchemas)[K]
>;
