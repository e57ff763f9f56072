import type { PaymentRecord } from '../escrow/escrow-store';
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
import { DcpError, DcpErrorCode, getDefaultCrypto, toChecksumAddress } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import { SCHEDULER_CORE, type SchedulerCore } from '../core';
import { ComputeGroups, createComputeGroupSchema } from '../groups/compute-groups.usecase';
import { decodeInput } from '../jobs/job-input';
import { jobStatusReport } from '../pheme/job-report.usecase';
import { resultValue } from '../results/submit-result.usecase';
import { openApiDocument } from './openapi';
import { renderValue } from './render-value';

const listQuery = z.object({
  owner: z.string().optional(),
  /** comma-separated addresses: jobs deployed by or paid from any of them (any spelling) */
  account: z.string().max(10_000).optional(),
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const sliceQuery = z.object({
  from: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
const cancelBody = z.object({ reason: z.string().max(500).optional() }).default({});
const schedMsgBody = z.object({
  command: z.enum(['announce', 'kill', 'restart', 'reload', 'remove', 'addPriorityJob', 'removePriorityJob']),
  payload: z.record(z.string(), z.unknown()).default({}),
  target: z.string().optional(),
});

/** Invalid input: 400 `{error: {code: 'EINVAL', message}, issues}`. */
function parse<T extends z.ZodType>(schema: T, value: unknown, what = 'request'): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidRequest(what, r.error.issues);
  return r.data;
}

/**
 * Inspection REST API for the portal and tests (`/api/...`, OpenAPI at `/api/openapi.json`).
 * Errors are `{error: {code, message}}` (nest-kit's RestErrorFilter). Changes need the admin token
 * or a request signed by the owner (RestAuth; README "Security model"); reads of a job (its slices,
 * results, events, escrow) are open on loopback and the owner's or the admin's beyond it.
 */
@Controller('api')
export class InspectController {
  readonly #groups: ComputeGroups;
  constructor(
    @Inject(SCHEDULER_CORE) private readonly core: SchedulerCore,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {
    this.#groups = new ComputeGroups(core.ctx);
  }

  @Get('openapi.json')
  openapi() {
    return openApiDocument();
  }

  @Get('jobs')
  async jobs(@Req() req: AuthRequest, @Query() query: unknown) {
    const q = parse(listQuery, query);
    const scope = this.auth.readerScope(req, 'listing jobs');
    const status = q.status?.split(',');
    const spellings = (a: string) => [a, a.toLowerCase(), toChecksumAddress(getDefaultCrypto(), a)];
    let accounts = q.account
      ?.split(',')
      .filter((a) => /^0x[0-9a-fA-F]{40}$/.test(a))
      .flatMap(spellings);
    if (!scope.all) {
      // beyond loopback a signer lists its own jobs only (deployed by or paid from its address)
      const mine = new Set(spellings(scope.address));
      accounts = accounts ? accounts.filter((a) => mine.has(a)) : [...mine];
      if (accounts.length === 0) accounts = ['0x'];
    }
    const filter = { owner: q.owner, status, ...(accounts ? { accounts: [...new Set(accounts)] } : {}) };
    const jobs = await this.core.ctx.store.listJobs({ ...filter, limit: q.limit, offset: q.offset });
    return {
      jobs: jobs.map((j) => jobStatusReport(j)),
      total: await this.core.ctx.store.countJobs(filter),
    };
  }

  async #job(id: string) {
    const job = await this.core.ctx.store.getJob(id);
    if (!job) throw restError(HttpStatus.NOT_FOUND, DcpErrorCode.ENOENT, `no job ${id}`);
    return job;
  }

  /** A job the caller may read: anyone's on loopback, else the owner's, its payer's or the admin's. */
  async #readable(req: AuthRequest, id: string) {
    if (!this.auth.loopback) this.auth.requireCaller(req, `job ${id}`);
    const job = await this.#job(id);
    this.auth.requireReader(req, [job.owner, job.paymentAccount], `job ${id}`);
    return job;
  }

  @Get('jobs/:id')
  async job(@Req() req: AuthRequest, @Param('id') id: string) {
    const job = await this.#readable(req, id);
    const counts = await this.core.ctx.store.sliceCounts(id);
    return {
      ...jobStatusReport(job, counts),
      slices: counts,
      inputKind: job.inputKind,
      generation: job.generation,
      subscribers: this.core.ctx.events.subscriberCount(id),
      metering: { cpuMs: job.cpuMs, gpuMs: job.gpuMs, bytesIn: job.bytesIn, bytesOut: job.bytesOut },
      metrics: { sliceCpuMs: job.sliceCpuMs, measuredSlices: job.measuredSlices },
      offer: { absolute: job.absolutePayment, marketValueMultiplier: job.mvMultiplier },
      groups: job.options.groups,
    };
  }

  @Get('jobs/:id/slices')
  async slices(@Req() req: AuthRequest, @Param('id') id: string, @Query() query: unknown) {
    const job = await this.#readable(req, id);
    const q = parse(sliceQuery, query);
    const slices = await this.core.ctx.store.slices(id, { from: q.from, limit: q.limit });
    const payments = new Map((await this.core.ctx.escrow.payments(id)).map((p) => [p.sliceNumber, p]));
    return {
      slices: slices.map((s) => ({
        sliceNumber: s.sliceNumber,
        status: s.status,
        input: renderValue(decodeInput(s.input, job.range, s.sliceNumber)),
        worker: s.leaseWorker ?? s.worker,
        leaseExpires: s.leaseExpires?.toISOString(),
        attempts: s.attempts,
        errors: s.errors,
        lastError: s.lastError,
        metering:
          s.status === 'done'
            ? { cpuMs: s.cpuMs, gpuMs: s.gpuMs, bytesIn: s.bytesIn, bytesOut: s.bytesOut }
            : undefined,
        completedAt: s.completedAt?.toISOString(),
        payment: paymentView(payments.get(s.sliceNumber)),
      })),
    };
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
  async escrow(@Req() req: AuthRequest, @Param('id') id: string) {
    await this.#readable(req, id);
    return { escrow: (await this.core.ctx.escrow.view(id)) ?? null };
  }

  @Get('jobs/:id/results')
  async results(@Req() req: AuthRequest, @Param('id') id: string, @Query() query: unknown) {
    await this.#readable(req, id);
    const q = parse(sliceQuery, query);
    const slices = await this.core.ctx.store.slices(id, { from: q.from, limit: q.limit });
    return {
      results: slices
        .filter((s) => s.status === 'done' && s.result)
        .map((s) => ({
          sliceNumber: s.sliceNumber,
          isError: s.resultIsError,
          value: renderResult(s.result as { string: string; method: 'json' | 'kvin' }),
        })),
    };
  }

  /**
   * The job's events, oldest first: reliable ones as stored (`stop`, `nofunds`; `delivered` tells
   * whether a client took them) and the latest optional ones pushed to clients (console, error,
   * noprogress, custom; `stored: false` and a negative `seq` of their own sequence, kept in memory
   * since the scheduler started).
   */
  @Get('jobs/:id/events')
  async events(@Req() req: AuthRequest, @Param('id') id: string) {
    await this.#readable(req, id);
    const stored = (await this.core.ctx.store.events(id)).map((e) => ({ ...e, stored: true }));
    const recent = this.core.ctx.events.recent(id).map((e) => ({ ...e, seq: -e.seq, stored: false }));
    const events = [...stored, ...recent].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return { events: events.map((e) => ({ ...e, data: renderValue(e.data) })) };
  }

  /** Cancel a running job: the admin or the job's owner (its identity address) only. */
  @Post('jobs/:id/cancel')
  async cancel(@Req() req: AuthRequest, @Param('id') id: string, @Body() body: unknown) {
    this.auth.requireCaller(req, `cancelling job ${id}`);
    const job = await this.#job(id);
    this.auth.requireOwner(req, [job.owner], `job ${id}`);
    const b = parse(cancelBody, body ?? {});
    const cancelled =
      job.status === 'running' &&
      (await this.core.lifecycle.cancel(id, b.reason ?? 'Job cancelled through the scheduler API'));
    return { cancelled };
  }

  /**
   * Workers: those that asked for work (connected, or gone within a lease period) with what they
   * said (identity, payment address, cores, verified groups), and every holder of leased slices.
   */
  @Get('workers')
  async workers() {
    const leased = new Map((await this.core.ctx.store.workers()).map((w) => [w.worker, w.slices]));
    const seen = this.core.leases.connected();
    const workers = [
      ...seen.map((w) => ({ ...w, slices: leased.get(w.worker) ?? [] })),
      ...[...leased]
        .filter(([worker]) => !seen.some((w) => w.worker === worker))
        .map(([worker, slices]) => ({ worker, slices })),
    ];
    return { workers };
  }

  /** Registered compute groups (no join hashes, no secrets) with their running jobs. */
  @Get('compute-groups')
  async groups(@Query('jobs') which?: string) {
    // `?jobs=all`: jobs of every status (newest first), not only the running ones
    const jobs = await this.core.ctx.store.listJobs(
      which === 'all' ? { limit: 1000 } : { status: ['running'], limit: 1000 },
    );
    const byGroup = new Map<string, string[]>();
    for (const j of jobs) for (const g of j.options.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), j.id]);
    const groups = await this.#groups.list();
    return { groups: groups.map((g) => ({ ...g, jobs: byGroup.get(g.joinKey) ?? [] })) };
  }

  /**
   * Register a compute group; a generated join secret is in this response only. The admin may
   * create a group for any owner (the scheduler's identity when none is named); a signer creates
   * groups it owns (`owner` absent or its own address).
   */
  @Post('compute-groups')
  @HttpCode(HttpStatus.CREATED)
  async createGroup(@Req() req: AuthRequest, @Body() body: unknown) {
    const caller = this.auth.requireCaller(req, 'creating a compute group');
    const data = parse(createComputeGroupSchema, body, 'compute group');
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

  async #group(joinKey: string) {
    const group = await this.core.ctx.groups.get(joinKey);
    if (!group)
      throw restError(HttpStatus.NOT_FOUND, DcpErrorCode.ENOENT, `no compute group with join key ${joinKey}`);
    return group;
  }

  /** Delete a compute group: the admin or the group's owner. */
  @Delete('compute-groups/:joinKey')
  async deleteGroup(@Req() req: AuthRequest, @Param('joinKey') joinKey: string) {
    this.auth.requireCaller(req, `deleting compute group ${joinKey}`);
    const group = await this.#group(joinKey);
    this.auth.requireOwner(req, [group.owner], `compute group ${joinKey}`);
    if (!(await this.#groups.delete(joinKey)))
      throw restError(HttpStatus.NOT_FOUND, DcpErrorCode.ENOENT, `no compute group with join key ${joinKey}`);
    return { deleted: joinKey };
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
  ) {
    this.auth.requireCaller(req, `removing job ${id} from compute group ${joinKey}`);
    const job = await this.core.ctx.store.getJob(id);
    if (!job?.options.groups.includes(joinKey))
      throw restError(
        HttpStatus.NOT_FOUND,
        DcpErrorCode.ENOENT,
        `job ${id} is not in compute group ${joinKey}`,
      );
    const group = await this.core.ctx.groups.get(joinKey);
    this.auth.requireOwner(req, [group?.owner, job.owner], `job ${id} in compute group ${joinKey}`);
    await this.core.groupAdmin.removeJobFromGroup(joinKey, id);
    return { job: id, groups: job.options.groups };
  }

  /** A scheduler message to every worker (or `target`): the admin only. */
  @Post('schedmsg')
  schedmsg(@Req() req: AuthRequest, @Body() body: unknown) {
    this.auth.requireAdmin(req, 'sending scheduler messages to workers');
    const b = parse(schedMsgBody, body);
    const delivered = this.core.ctx.events.schedMsg(
      b.target ? 'command' : 'broadcast',
      b.command,
      b.payload,
      b.target,
    );
    return { delivered };
  }
}

/** A stored result as JSON, whatever it holds (cycles, functions, huge values); never throws. */
function renderResult(result: { string: string; method: 'json' | 'kvin' }): unknown {
  try {
    return renderValue(resultValue(result));
  } catch (e) {
    return {
      error: { name: 'EINVAL', message: `unreadable result: ${e instanceof Error ? e.message : String(e)}` },
    };
  }
}

/** A slice's payment: to whom, how much (+ commission), and whether the bank has settled it. */
function paymentView(p: PaymentRecord | undefined) {
  if (!p) return undefined;
  return {
    payTo: p.payTo,
    amount: p.amount,
    commission: p.commission,
    commissionTo: p.commissionTo,
    settled: p.settledAt !== null,
    transaction: p.transaction ?? undefined,
  };
}
