import {
  cancelJobRequest,
  createComputeGroupRequest,
  groupListQuery,
  jobListQuery,
  type SchedulerAnswer,
  schedMsgRequest,
  schedulerOpenApi,
  slicePageQuery,
} from '@dcp-emu/contracts';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { type AuthRequest, invalidRequest, RestAuth, restError } from '@dcp-emu/nest-kit';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import { SCHEDULER_CORE, type SchedulerCore } from '../core';
import { ComputeGroups } from '../groups/compute-groups.usecase';
import { ListJobs } from './list-jobs.usecase';
import { ListWorkers } from './list-workers.usecase';
import { ReadJob } from './read-job.usecase';
import { SendSchedMsg } from './send-schedmsg.usecase';

/** Invalid input: 400 `{error: {code: 'EINVAL', message}, issues}`. */
function parse<T extends z.ZodType>(schema: T, value: unknown, what = 'request'): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidRequest(what, r.error.issues);
  return r.data;
}

/**
 * Inspection REST API for the portal and tests (`/api/...`, OpenAPI at `/api/openapi.json`, both
 * from the contracts in @dcp-emu/contracts). This controller parses, checks who may do what
 * (RestAuth) and calls one use case per route. Errors are `{error: {code, message}}` (nest-kit's
 * RestErrorFilter). Changes need the admin token or a request signed by the owner (README
 * "Security model"); reads of a job (its slices, results, events, escrow) are open on loopback and
 * the owner's or the admin's beyond it.
 */
@Controller('api')
export class InspectController {
  readonly #groups: ComputeGroups;
  readonly #listJobs: ListJobs;
  readonly #readJob: ReadJob;
  readonly #listWorkers: ListWorkers;
  readonly #schedMsg: SendSchedMsg;

  constructor(
    @Inject(SCHEDULER_CORE) private readonly core: SchedulerCore,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {
    this.#groups = new ComputeGroups(core.ctx);
    this.#listJobs = new ListJobs(core.ctx);
    this.#readJob = new ReadJob(core.ctx);
    this.#listWorkers = new ListWorkers(core.ctx, core.leases);
    this.#schedMsg = new SendSchedMsg(core.ctx);
  }

  @Get('openapi.json')
  openapi() {
    return schedulerOpenApi();
  }

  @Get('jobs')
  async jobs(@Req() req: AuthRequest, @Query() query: unknown): Promise<SchedulerAnswer<'JobList'>> {
    const q = parse(jobListQuery, query);
    return this.#listJobs.execute(q, this.auth.readerScope(req, 'listing jobs'));
  }

  /** A job the caller may read: anyone's on loopback, else the owner's, its payer's or the admin's. */
  async #readable(req: AuthRequest, id: string) {
    if (!this.auth.loopback) this.auth.requireCaller(req, `job ${id}`);
    const job = await this.#readJob.find(id);
    this.auth.requireReader(req, [job.owner, job.paymentAccount], `job ${id}`);
    return job;
  }

  @Get('jobs/:id')
  async job(@Req() req: AuthRequest, @Param('id') id: string): Promise<SchedulerAnswer<'JobDetail'>> {
    return this.#readJob.detail(await this.#readable(req, id));
  }

  @Get('jobs/:id/slices')
  async slices(
    @Req() req: AuthRequest,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<SchedulerAnswer<'SliceList'>> {
    const job = await this.#readable(req, id);
    return this.#readJob.slices(job, parse(slicePageQuery, query));
  }

  /**
   * "Why is my job idle?": the job's state and, for each worker that asked for work, why it is not
   * computing this job (from its last requestTask). Read like the job itself.
   */
  @Get('jobs/:id/explain')
  async explain(@Req() req: AuthRequest, @Param('id') id: string) {
    const job = await this.#readable(req, id);
    return this.core.explain.execute(job);
  }

  /**
   * One slice to run again outside the stack (`dcp-emu replay`): its work function, datum, arguments
   * and modules as a 5.x worker gets them, and what the stack recorded for it. Read like the job.
   */
  @Get('jobs/:id/slices/:n/replay')
  async replay(@Req() req: AuthRequest, @Param('id') id: string, @Param('n') n: string) {
    const job = await this.#readable(req, id);
    const sliceNumber = parse(z.coerce.number().int().min(1), n, 'slice number');
    try {
      return await this.core.replay.execute(job, sliceNumber);
    } catch (e) {
      if (e instanceof DcpError && e.code === DcpErrorCode.ENOENT)
        throw restError(HttpStatus.NOT_FOUND, e.code, e.message);
      throw e;
    }
  }

  /** The job's escrow terms and what it owes and paid (metered schedulers; null otherwise). */
  @Get('jobs/:id/escrow')
  async escrow(@Req() req: AuthRequest, @Param('id') id: string): Promise<SchedulerAnswer<'JobEscrow'>> {
    return this.#readJob.escrow(await this.#readable(req, id));
  }

  @Get('jobs/:id/results')
  async results(
    @Req() req: AuthRequest,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<SchedulerAnswer<'ResultList'>> {
    const job = await this.#readable(req, id);
    return this.#readJob.results(job, parse(slicePageQuery, query));
  }

  @Get('jobs/:id/events')
  async events(@Req() req: AuthRequest, @Param('id') id: string): Promise<SchedulerAnswer<'EventList'>> {
    return this.#readJob.events(await this.#readable(req, id));
  }

  /** Cancel a running job: the admin or the job's owner (its identity address) only. */
  @Post('jobs/:id/cancel')
  async cancel(
    @Req() req: AuthRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<SchedulerAnswer<'CancelResult'>> {
    this.auth.requireCaller(req, `cancelling job ${id}`);
    const b = parse(cancelJobRequest, body ?? {});
    return this.core.cancelJob.byApi(id, b.reason, (owners) =>
      this.auth.requireOwner(req, owners, `job ${id}`),
    );
  }

  @Get('workers')
  async workers(): Promise<SchedulerAnswer<'WorkerList'>> {
    return this.#listWorkers.execute();
  }

  /** Registered compute groups (no join hashes, no secrets) with their jobs (`?jobs=all`: every status). */
  @Get('compute-groups')
  async groups(@Query() query: unknown): Promise<SchedulerAnswer<'ComputeGroupList'>> {
    return this.#groups.listWithJobs(parse(groupListQuery, query).jobs);
  }

  /**
   * Register a compute group; a generated join secret is in this response only. The admin may
   * create a group for any owner (the scheduler's identity when none is named); a signer creates
   * groups it owns (`owner` absent or its own address).
   */
  @Post('compute-groups')
  @HttpCode(HttpStatus.CREATED)
  async createGroup(
    @Req() req: AuthRequest,
    @Body() body: unknown,
  ): Promise<SchedulerAnswer<'CreatedComputeGroup'>> {
    const caller = this.auth.requireCaller(req, 'creating a compute group');
    const data = parse(createComputeGroupRequest, body, 'compute group');
    if (caller.kind === 'signer') {
      if (data.owner !== undefined && data.owner.toLowerCase() !== caller.address.toLowerCase())
        throw restError(
          HttpStatus.FORBIDDEN,
          DcpErrorCode.EPERM,
          `${caller.address} may not create a compute group owned by ${data.owner}`,
        );
      data.owner = caller.address;
    }
    try {
      return await this.#groups.create(data);
    } catch (e) {
      if (e instanceof DcpError) throw restError(HttpStatus.CONFLICT, e.code, e.message);
      throw e;
    }
  }

  /** Delete a compute group: the admin or the group's owner. */
  @Delete('compute-groups/:joinKey')
  async deleteGroup(
    @Req() req: AuthRequest,
    @Param('joinKey') joinKey: string,
  ): Promise<SchedulerAnswer<'DeletedComputeGroup'>> {
    this.auth.requireCaller(req, `deleting compute group ${joinKey}`);
    return this.#groups.remove(joinKey, (owners) =>
      this.auth.requireOwner(req, owners, `compute group ${joinKey}`),
    );
  }

  /**
   * Take a job out of a compute group; a job left in no group is dispatched to nobody. The admin,
   * the group's owner or the job's owner.
   */
  @Delete('compute-groups/:joinKey/jobs/:job')
  async removeJobFromGroup(
    @Req() req: AuthRequest,
    @Param('joinKey') joinKey: string,
    @Param('job') id: string,
  ): Promise<SchedulerAnswer<'JobGroups'>> {
    this.auth.requireCaller(req, `removing job ${id} from compute group ${joinKey}`);
    return this.core.groupAdmin.takeJobOut(joinKey, id, (owners) =>
      this.auth.requireOwner(req, owners, `job ${id} in compute group ${joinKey}`),
    );
  }

  /** A scheduler message to every worker (or `target`): the admin only. */
  @Post('schedmsg')
  schedmsg(@Req() req: AuthRequest, @Body() body: unknown): SchedulerAnswer<'SchedMsgResult'> {
    this.auth.requireAdmin(req, 'sending scheduler messages to workers');
    return this.#schedMsg.execute(parse(schedMsgRequest, body));
  }
}
