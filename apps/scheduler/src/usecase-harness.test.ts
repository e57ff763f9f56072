import { type Database, openDatabase } from '@dcp-emu/db';
import {
  cryptoRandom,
  DcpError,
  DcpSession,
  Identity,
  jobValue,
  OperationRegistry,
  silentLogger,
  VirtualClock,
} from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import type { z } from 'zod';
import { defaultTuning } from './config';
import type { SchedulerContext } from './context';
import { SchedulerCore } from './core';
import { NoEscrow } from './escrow/escrow';
import { EventRouter } from './events/event-router';
import type { SubmitData } from './jobs/submit.usecase';
import { openSchedulerState } from './state/open-state';
import { eh1, joinHash } from './tasks/matching';

/**
 * Shared set-up of the scheduler's use-case specs (a helper, not a spec: `*.test.ts` is typechecked
 * with the specs but never run on its own): a fresh SQLite database, the scheduler's real state on
 * it, a SchedulerContext on a frozen VirtualClock and a SchedulerCore.
 */
export interface UseCaseHarness {
  ctx: SchedulerContext;
  core: SchedulerCore;
  clock: VirtualClock;
  close(): Promise<void>;
}

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export async function openHarness(): Promise<UseCaseHarness> {
  const tdb: TestDatabase = await freshDatabase('sqlite');
  const db: Database = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
  const state = await openSchedulerState({
    prisma: db.prisma,
    location: db.location,
    logger: silentLogger,
    leases: defaultTuning,
  });
  const clock = new VirtualClock({ frozenAt: T0 });
  const ctx: SchedulerContext = {
    ...state,
    events: new EventRouter(state.store, clock, cryptoRandom, silentLogger),
    clock,
    random: cryptoRandom,
    escrow: new NoEscrow(),
    identity: Identity.random(),
    logger: silentLogger,
    tuning: defaultTuning,
  };
  const core = new SchedulerCore(ctx);
  return {
    ctx,
    core,
    clock,
    async close() {
      core.stop();
      await db.close();
      await tdb.drop();
    },
  };
}

/**
 * Run `handler` on `data` the way the DCP services do: through a real OperationRegistry with the
 * operation's zod schema (invalid data → EINVAL before the use case runs). Resolves with the answer,
 * rejects with the DcpError the client would get.
 */
export async function viaRegistry<S extends z.ZodType>(
  schema: S,
  data: unknown,
  handler: (parsed: z.output<S>) => unknown,
): Promise<unknown> {
  let answer: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  const session = {} as DcpSession;
  const request = {
    id: '1',
    operation: 'op',
    data,
    rawPayload: { operation: 'op', data },
    authorized: [],
    session,
    answered: false,
    respond(value: unknown) {
      answer = { ok: true, value };
      request.answered = true;
    },
    fail(error: unknown) {
      answer = { ok: false, error };
      request.answered = true;
    },
  };
  await new OperationRegistry()
    .register({ operation: 'op', schema, handler: (parsed) => handler(parsed) })
    .dispatch(request, { peer: '', session, service: 'spec', generation: 5, logger: silentLogger });
  if (!answer) throw new Error('the registry did not answer');
  if (!answer.ok) throw answer.error;
  return answer.value;
}

/** The DcpError a promise rejects with (fails the spec when it resolves or throws anything else). */
export async function refusal(p: Promise<unknown> | (() => unknown)): Promise<DcpError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof DcpError) return e;
    throw e;
  }
  throw new Error('expected a DcpError');
}

/** A 5.x submit of a range job (`1..slices`), as dcp-client sends it. */
export function rangeJob(job: string, paymentAccount: string, slices = 3, over: Partial<SubmitData> = {}) {
  return {
    paymentAccount,
    workFunctionURI: 'data:,(x)%3D%3Ex',
    job,
    dataRange: { start: 1, end: slices, step: 1 },
    ...over,
  } as SubmitData;
}

/** A 5.x submit of an open array job (slices come with addSliceData). */
export function arrayJob(job: string, paymentAccount: string, over: Partial<SubmitData> = {}) {
  return { paymentAccount, workFunctionURI: 'data:,(x)%3D%3Ex', job, ...over } as SubmitData;
}

/**
 * Lease the next `count` queued slices of `jobId` to `worker` and store a result for each
 * (`resultOf(sliceNumber)`), straight in the job store: a worker's finished slices, for the specs of
 * the use cases that read them. Returns the slice numbers.
 */
export async function storeResults(
  h: UseCaseHarness,
  jobId: string,
  count: number,
  resultOf: (n: number) => unknown = (n) => n * 10,
  worker = 'w1',
): Promise<number[]> {
  const leased = h.ctx.store.leaseSlices(jobId, count, worker, h.clock.now());
  const numbers = leased.map((s) => s.sliceNumber);
  await h.ctx.store.recordResults(
    numbers.map((sliceNumber) => {
      const v = resultOf(sliceNumber);
      return {
        jobId,
        sliceNumber,
        worker,
        paymentAddress: worker,
        result: jobValue.encode(v, 5) as { string: string; method: 'json' | 'kvin' },
        isError: v instanceof Error,
        cpuMs: 5,
        gpuMs: 0,
        bytesIn: 10,
        bytesOut: 20,
      };
    }),
    new Date(h.clock.now()),
  );
  return numbers;
}

/** A worker's DCP session to the scheduler (never connected: its dcpsid is all the use cases read). */
export function workerSession(h: UseCaseHarness, dcpsid = 'S'.repeat(42)): DcpSession {
  const session = new DcpSession({ role: 'target', identity: h.ctx.identity });
  session.dcpsid = dcpsid;
  return session;
}

export interface TakenTask {
  slices: number[];
  /** what the worker sends back with results and status: the scheduler's signed task authorization */
  authorizationMessage: {
    owner: unknown;
    signature: unknown;
    auth: { authSlices: Record<string, number[]> };
  };
}

/**
 * A 4.x worker (`worker` = its identity address, worker id w1) in the public group asks for up to
 * `cpu` slices of `jobId` (which must be in the public group), as dcp-worker does.
 */
export async function takeTask(
  h: UseCaseHarness,
  session: DcpSession,
  worker: string,
  jobId: string,
  cpu: number,
): Promise<TakenTask> {
  const task = (await h.core.requestTask.execute(
    {
      targetLoad: { cpu },
      coreStats: { worker: 'w1' },
      workerComputeGroups: [{ joinKey: 'public', joinHashHash: eh1(session.dcpsid + joinHash('public')) }],
      jobAddresses: [jobId],
    },
    worker,
    4,
    session,
  )) as { owner: unknown; signature: unknown; auth: { authSlices: Record<string, number[]> } };
  return {
    slices: task.auth?.authSlices?.[jobId] ?? [],
    authorizationMessage: { owner: task.owner, signature: task.signature, auth: task.auth },
  };
}
