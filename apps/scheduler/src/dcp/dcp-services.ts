import {
  DcpError,
  type DcpTarget,
  type Logger,
  type OperationDefinition,
  OperationRegistry as BaseRegistry,
} from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerCore } from '../core';
import { FaultHooks } from '../faults/fault-hooks';
import type { FaultPlan } from '../faults/fault-plan';
import { addJobToGroupsSchema } from '../jobs/add-job-to-groups.usecase';
import {
  changeGroupSchema,
  createGroupSchema,
  groupDescriptorSchema,
  removeJobSchema,
} from '../groups/group-admin.usecase';
import { addSliceDataSchema } from '../jobs/add-slice-data.usecase';
import { cancelAllJobsSchema } from '../jobs/cancel-all-jobs.usecase';
import { cancelJobSchema } from '../jobs/cancel-job.usecase';
import { closeJobSchema } from '../jobs/close-job.usecase';
import { submitSchema } from '../jobs/submit.usecase';
import { deployPackageSchema, fetchModuleUrlSchema, listModulesSchema } from '../modules/packages.usecase';
import { jobReportSchema, listJobsSchema } from '../pheme/job-report.usecase';
import { sendSchedMsgSchema } from '../schedmsg/send-schedmsg.usecase';
import { fetchResultSchema } from '../results/fetch-result.usecase';
import { resultSchema } from '../results/submit-result.usecase';
import { workEmitSchema } from '../results/work-emit.usecase';
import { requestTaskSchema } from '../tasks/request-task.usecase';
import { sliceStatusSchema } from '../tasks/slice-status.usecase';

const subscribeOptions = z
  .object({
    filter: z
      .object({
        job: z.string().optional(),
        $or: z
          .array(z.object({ target: z.string().optional(), broadcast: z.boolean().optional() }).loose())
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose()
  .optional();

/** A registry that logs every refused request with its code (clients only see the ErrorPayload). */
function loggedRegistry(logger: Logger) {
  return class LoggedRegistry extends BaseRegistry {
    override register<S extends z.ZodType>(definition: OperationDefinition<S>): this {
      const handler = definition.handler;
      return super.register({
        ...definition,
        handler: async (data, ctx) => {
          try {
            return await handler(data, ctx);
          } catch (error) {
            if (error instanceof DcpError)
              logger.info(
                { operation: ctx.operation, code: error.code, err: error.message, peer: ctx.peer },
                'request refused',
              );
            throw error;
          }
        },
      });
    }
  };
}

/** The scheduler's DCP services; each operation is one use case (thin routes, zod schemas). */
export function registerDcpServices(target: DcpTarget, core: SchedulerCore, faultPlan?: FaultPlan): void {
  const { events } = core.ctx;
  const faults = faultPlan && new FaultHooks(core, faultPlan);
  target.on('protocolError', (error, info) =>
    core.ctx.logger.debug(
      { code: error.code, err: error.message, service: info.service },
      'DCP protocol error',
    ),
  );
  const OperationRegistry = loggedRegistry(core.ctx.logger);

  target.service(
    'jobSubmit',
    new OperationRegistry()
      .register({
        operation: ['submit@5', 'submit@2', 'submit'],
        schema: submitSchema,
        handler: (data, ctx) =>
          core.submit.execute(data, ctx.peer, ctx.generation, ctx.isAuthorizedBy(data.paymentAccount), {
            payload: (ctx.request.rawPayload ?? {}) as Record<string, unknown>,
            auth: ctx.request.auth ?? {},
            accessor: ctx.peer,
          }),
      })
      .register({
        operation: 'addSliceData',
        schema: addSliceDataSchema,
        handler: (data, ctx) => core.addSliceData.execute(data, ctx.peer, ctx.generation),
      })
      .register({
        operation: 'cancelJob',
        schema: cancelJobSchema,
        handler: (data, ctx) => core.cancelJob.execute(data, ctx.peer),
      })
      .register({
        operation: 'cancelAllJobs',
        schema: cancelAllJobsSchema,
        handler: (data, ctx) => core.cancelAllJobs.execute(data, ctx.peer),
      })
      .register({
        operation: ['fetchJob', 'resumeJob'],
        schema: z.object({ job: z.string() }).loose(),
        handler: (data, ctx) => core.reports.jobReport({ job: data.job }, ctx.peer),
      }),
  );

  target.service(
    'eventRouter',
    new OperationRegistry()
      .register({
        operation: 'subscribeMany',
        schema: z
          .object({
            reliableEvents: z.array(z.string()).default([]),
            optionalEvents: z.array(z.string()).default([]),
            schedmsgEvents: z.array(z.string()).default([]),
            options: subscribeOptions,
          })
          .loose(),
        handler: (data, ctx) => ({
          tokens: [...data.reliableEvents, ...data.optionalEvents, ...data.schedmsgEvents].map((event) => ({
            event,
            token: events.subscribe(ctx.session, ctx.generation, event, data.options ?? {}),
          })),
        }),
      })
      .register({
        operation: 'subscribe',
        schema: z.object({ label: z.string(), options: subscribeOptions }).loose(),
        handler: (data, ctx) => ({
          token: events.subscribe(ctx.session, ctx.generation, data.label, data.options ?? {}),
        }),
      })
      .register({
        operation: 'unsubscribe',
        schema: z
          .object({
            label: z.string().optional(),
            token: z.union([z.string(), z.object({ token: z.string() }).loose()]),
          })
          .loose(),
        handler: (data, ctx) => ({
          success: events.unsubscribe(
            ctx.session,
            typeof data.token === 'string' ? data.token : data.token.token,
          ),
        }),
      })
      .register({
        operation: 'workEmit',
        schema: workEmitSchema,
        handler: (data) => core.workEmit.execute(data),
      })
      .register({
        operation: 'sendSchedMsg',
        schema: sendSchedMsgSchema,
        handler: (data, ctx) => core.sendSchedMsg.execute(data, ctx.peer),
      }),
  );

  target.service(
    'resultSubmitter',
    new OperationRegistry()
      .register({
        operation: 'closeJob',
        schema: closeJobSchema,
        handler: (data, ctx) => core.closeJob.execute(data, ctx.peer),
      })
      .register({
        operation: 'fetchResult',
        schema: fetchResultSchema,
        handler: (data, ctx) => core.fetchResult.execute(data, ctx.peer, (a) => ctx.isAuthorizedBy(a)),
      })
      .register({
        operation: 'result',
        schema: resultSchema,
        handler: (data, ctx) =>
          faults
            ? faults.result(data, ctx.peer, ctx.session, (d) => core.submitResult.execute(d, ctx.peer))
            : core.submitResult.execute(data, ctx.peer),
      })
      .register({
        operation: 'status',
        schema: sliceStatusSchema,
        handler: (data, ctx) => core.sliceStatus.execute(data, ctx.peer, ctx.session),
      })
      .register({
        operation: 'deleteResult',
        schema: z.object({ job: z.string() }).loose(),
        handler: () => ({ success: true }),
      }),
  );

  target.service(
    'computeGroups',
    new OperationRegistry()
      .register({
        operation: 'addJobToGroups',
        schema: addJobToGroupsSchema,
        handler: (data, ctx) => core.addJobToGroups.execute(data, ctx.peer, ctx.session.dcpsid),
      })
      .register({
        operation: 'createGroup',
        schema: createGroupSchema,
        handler: (data, ctx) => core.groupAdmin.create(data, ctx.peer),
      })
      .register({
        operation: 'changeGroup',
        schema: changeGroupSchema,
        handler: (data, ctx) => core.groupAdmin.change(data, ctx.peer),
      })
      .register({
        operation: 'deleteGroup',
        schema: groupDescriptorSchema,
        handler: (data, ctx) => core.groupAdmin.delete(data, ctx.peer),
      })
      .register({
        operation: 'listJobs',
        schema: z.object({ descriptor: z.unknown().optional() }).loose(),
        // with a group descriptor: the group's jobs (cg-utility listJobs); without: the caller's running jobs
        handler: async (data, ctx) =>
          data.descriptor
            ? core.groupAdmin.listJobs(groupDescriptorSchema.parse(data), ctx.peer)
            : (await core.ctx.store.listJobs({ owner: ctx.peer, status: ['running'] })).map((j) => j.id),
      })
      .register({
        operation: 'removeJob',
        schema: removeJobSchema,
        handler: (data, ctx) => core.groupAdmin.removeJob(data, ctx.peer),
      })
      .register({
        operation: 'removeAllJobs',
        schema: groupDescriptorSchema,
        handler: (data, ctx) => core.groupAdmin.removeAllJobs(data, ctx.peer),
      }),
  );

  target.service(
    'pheme',
    new OperationRegistry()
      .register({
        operation: 'fetchJobReport',
        schema: jobReportSchema,
        handler: (d, ctx) => core.reports.jobReport(d, ctx.peer),
      })
      .register({
        operation: 'fetchSliceReport',
        schema: jobReportSchema,
        handler: (d, ctx) => core.reports.sliceReport(d, ctx.peer),
      })
      .register({
        operation: 'listJobs',
        schema: listJobsSchema,
        handler: (d, ctx) => core.reports.listJobs(d, ctx.peer),
      })
      .register({
        operation: 'countJobs',
        schema: listJobsSchema,
        handler: (d, ctx) => core.reports.countJobs(d, ctx.peer),
      })
      .register({
        operation: 'countSlices',
        schema: jobReportSchema,
        handler: (d, ctx) => core.reports.countSlices(d, ctx.peer),
      }),
  );

  target.service(
    'taskDistributor',
    new OperationRegistry().register({
      operation: ['requestTask', 'requestTask@3'],
      schema: requestTaskSchema,
      handler: (data, ctx) =>
        faults
          ? faults.requestTask(data, ctx.peer, ctx.session, (d) =>
              core.requestTask.execute(d, ctx.peer, ctx.generation, ctx.session),
            )
          : core.requestTask.execute(data, ctx.peer, ctx.generation, ctx.session),
    }),
  );

  target.service(
    'packageManager',
    new OperationRegistry()
      .register({
        operation: 'deployPackage',
        schema: deployPackageSchema,
        handler: (data, ctx) => core.packages.deploy(data, ctx.peer),
      })
      .register({
        operation: 'fetchModuleURL',
        schema: fetchModuleUrlSchema,
        handler: (data) => core.packages.moduleUrls(data),
      })
      .register({
        operation: 'listModules',
        schema: listModulesSchema,
        handler: (data) => core.packages.list(data),
      }),
  );
}
