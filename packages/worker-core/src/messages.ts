import { z } from 'zod';

/**
 * What the supervisor reads from the scheduler (dcp-worker-protocol.md §4.5–4.10). Loose objects:
 * the scheduler may send more than we read. 5.x keys jobs by `jobId`; 4.x by `address`.
 */
export const jobMessageSchema = z
  .object({
    jobId: z.string().optional(),
    address: z.string().optional(),
    jobCgId: z.string().optional(),
    requirements: z.record(z.string(), z.unknown()).default({}),
    codeLocation: z.string().optional(),
    workFunction: z.string().optional(),
    arguments: z.array(z.unknown()).optional(),
    argumentsLocation: z.array(z.object({ value: z.string(), argIndex: z.number() }).loose()).optional(),
    dependencies: z.array(z.string()).default([]),
    requirePath: z.array(z.string()).default([]),
    modulePath: z.array(z.string()).default([]),
    worktime: z
      .object({ name: z.string(), version: z.string() })
      .loose()
      .default({ name: 'map-basic', version: '1.0.0' }),
    public: z.record(z.string(), z.unknown()).default({}),
    useStrict: z.boolean().optional(),
  })
  .loose();
export type JobMessage = z.infer<typeof jobMessageSchema>;

export const sliceMessageSchema = z
  .object({
    sliceNumber: z.number().int().positive(),
    jobId: z.string().optional(),
    jobAddress: z.string().optional(),
    datumUri: z.string().optional(),
    isEstimationSlice: z.boolean().optional(),
    resultStorageType: z.string().optional(),
  })
  .loose();
export type SliceMessage = z.infer<typeof sliceMessageSchema>;

export const taskPayloadSchema = z
  .object({
    owner: z.unknown().optional(),
    signature: z.unknown().optional(),
    auth: z.record(z.string(), z.unknown()).optional(),
    body: z
      .object({
        newJobs: z.record(z.string(), jobMessageSchema).optional(),
        task: z.record(z.string(), z.array(sliceMessageSchema)).optional(),
        computeGroupOrigins: z.record(z.string(), z.record(z.string(), z.array(z.string()))).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type TaskPayload = z.infer<typeof taskPayloadSchema>;

export const resultResponseSchema = z
  .object({
    slicePaymentAmount: z.union([z.number(), z.string()]).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export const subscribeResponseSchema = z.object({ token: z.string() }).loose();

export const schedMsgEventSchema = z
  .object({
    token: z.unknown().optional(),
    event: z
      .object({
        eventId: z.unknown().optional(),
        data: z
          .object({
            eventName: z.string().optional(),
            command: z.string(),
            payload: z.record(z.string(), z.unknown()).optional(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();
export type SchedMsgEvent = z.infer<typeof schedMsgEventSchema>;
