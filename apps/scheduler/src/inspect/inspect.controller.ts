import type { PaymentRecord } from '../escrow/escrow-store';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { DcpError, getDefaultCrypto, toChecksumAddress } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import { SCHEDULER_CORE, type SchedulerCore } from '../core';
import { ComputeGroups, createComputeGroupSchema } from '../groups/compute-groups.usecase';
import { decodeInput } from '../jobs/job-input';
import { jobStatusReport } from '../pheme/job-report.usecase';
import { resultValue } from '../results/submit-result.usecase';
import { openApiDocument } from './openapi';

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

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new HttpException(
      { error: 'invalid request', issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
      HttpStatus.BAD_REQUEST,
    );
  return r.data;
}

/** Registry answers: 4xx with `{error: {code, message}}` (and `issues` for invalid bodies). */
function parseGroupBody<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new HttpException(
      { error: { code: 'EINVAL', message: `invalid compute group: ${issues.join('; ')}` }, issues },
      HttpStatus.BAD_REQUEST,
    );
  }
  return r.data;
}

function jsonSafe(value: unknown): unknown {
  if (value instanceof Error) return { error: { name: value.name, message: value.message } };
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  return value;
}

/** Inspection REST API for the portal and tests (`/api/...`, OpenAPI at `/api/openapi.json`). */
@Controller('api')
export class InspectController {
  readonly #groups: ComputeGroups;
  constructor(@Inject(SCHEDULER_CORE) private readonly core: SchedulerCore) {
    this.#groups = new ComputeGroups(core.ctx);
  }

  @Get('openapi.json')
  openapi() {
    return openApiDocument();
  }

  @Get('jobs')
  async jobs(@Query() query: unknown) {
    const q = parse(listQuery, query);
    const status = q.status?.split(',');
    const accounts = q.account
      ?.split(',')
      .filter((a) => /^0x[0-9a-fA-F]{40}$/.test(a))
      .flatMap((a) => [a, a.toLowerCase(), toChecksumAddress(getDefaultCrypto(), a)]);
    const filter = { owner: q.owner, status, ...(accounts ? { accounts: [...new Set(accounts)] } : {}) };
    const jobs = await this.core.ctx.store.listJobs({ ...filter, limit: q.limit, offset: q.offset });
    return {
      jobs: jobs.map((j) => jobStatusReport(j)),
      total: await this.core.ctx.store.countJobs(filter),
    };
  }

  async #job(id: string) {
    const job = await this.core.ctx.store.getJob(id);
    if (!job) throw new HttpException({ error: `no job ${id}` }, HttpStatus.NOT_FOUND);
    return job;
  }

  @Get('jobs/:id')
  async job(@Param('id') id: string) {
    const job = await this.#job(id);
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
  async slices(@Param('id') id: string, @Query() query: unknown) {
    const job = await this.#job(id);
    const q = parse(sliceQuery, query);
    const slices = await this.core.ctx.store.slices(id, { from: q.from, limit: q.limit });
    const payments = new Map((await this.core.ctx.escrow.payments(id)).map((p) => [p.sliceNumber, p]));
    return {
      slices: slices.map((s) => ({
        sliceNumber: s.sliceNumber,
        status: s.status,
        input: jsonSafe(decodeInput(s.input, job.range, s.sliceNumber)),
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

  /** The job's escrow terms and what it owes and paid (metered schedulers; null otherwise). */
  @Get('jobs/:id/escrow')
  async escrow(@Param('id') id: string) {
    await this.#job(id);
    return { escrow: (await this.core.ctx.escrow.view(id)) ?? null };
  }

  @Get('jobs/:id/results')
  async results(@Param('id') id: string, @Query() query: unknown) {
    await this.#job(id);
    const q = parse(sliceQuery, query);
    const slices = await this.core.ctx.store.slices(id, { from: q.from, limit: q.limit });
    return {
      results: slices
        .filter((s) => s.status === 'done' && s.result)
        .map((s) => ({
          sliceNumber: s.sliceNumber,
          isError: s.resultIsError,
          value: jsonSafe(resultValue(s.result as { string: string; method: 'json' | 'kvin' })),
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
  async events(@Param('id') id: string) {
    await this.#job(id);
    const stored = (await this.core.ctx.store.events(id)).map((e) => ({ ...e, stored: true }));
    const recent = this.core.ctx.events.recent(id).map((e) => ({ ...e, seq: -e.seq, stored: false }));
    const events = [...stored, ...recent].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return { events };
  }

  @Post('jobs/:id/cancel')
  async cancel(@Param('id') id: string, @Body() body: unknown) {
    const job = await this.#job(id);
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

  /** Register a compute group; a generated join secret is in this response only. */
  @Post('compute-groups')
  @HttpCode(HttpStatus.CREATED)
  async createGroup(@Body() body: unknown) {
    const data = parseGroupBody(createComputeGroupSchema, body);
    try {
      return await this.#groups.create(data);
    } catch (e) {
      if (e instanceof DcpError)
        throw new HttpException({ error: { code: e.code, message: e.message } }, HttpStatus.CONFLICT);
      throw e;
    }
  }

  @Delete('compute-groups/:joinKey')
  async deleteGroup(@Param('joinKey') joinKey: string) {
    if (!(await this.#groups.delete(joinKey)))
      throw new HttpException(
        { error: { code: 'ENOENT', message: `no compute group with join key ${joinKey}` } },
        HttpStatus.NOT_FOUND,
      );
    return { deleted: joinKey };
  }

  /** Take a job out of a compute group; a job left in no group is dispatched to nobody. */
  @Delete('compute-groups/:joinKey/jobs/:job')
  async removeJobFromGroup(@Param('joinKey') joinKey: string, @Param('job') id: string) {
    const job = await this.core.ctx.store.getJob(id);
    if (!job?.options.groups.includes(joinKey))
      throw new HttpException(
        { error: { code: 'ENOENT', message: `job ${id} is not in compute group ${joinKey}` } },
        HttpStatus.NOT_FOUND,
      );
    const groups = job.options.groups.filter((g) => g !== joinKey);
    await this.core.ctx.store.setOptions(id, { ...job.options, groups }, new Date(this.core.ctx.clock.now()));
    return { job: id, groups };
  }

  @Post('schedmsg')
  schedmsg(@Body() body: unknown) {
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
