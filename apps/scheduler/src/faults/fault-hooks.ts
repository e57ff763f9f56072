import { type DcpSession, dataUri, systemClock } from '@dcp-emu/protocol/node';
import type { SchedulerCore } from '../core';
import type { ResultData } from '../results/submit-result.usecase';
import { jobMetrics, type RequestTaskData, workerKey } from '../tasks/request-task.usecase';
import type { FaultPlan, WorkerRef } from './fault-plan';

/** Fault delays are transport delays: real time, whatever the scheduler's (virtual) clock does. */
const sleep = (ms: number) => new Promise<void>((r) => systemClock.setTimeout(r, ms));

/** The slices a task answer hands out, by job (both generations share the body's shape). */
function taskJobs(answer: unknown): string[] {
  const task = (answer as { body?: { task?: Record<string, unknown[]> } } | undefined)?.body?.task;
  return task ? Object.keys(task).filter((j) => (task[j]?.length ?? 0) > 0) : [];
}

/**
 * The fault plan's hook points on the DCP operations: around `requestTask` and `result` (the task
 * distributor and result submitter sessions), and the client connections of a job. Each hook does
 * nothing but read `faults.armed` while no fault is set.
 */
export class FaultHooks {
  /** task sessions of workers, remembered only while faults are armed (crashWorker closes them) */
  readonly #taskSessions = new Map<string, DcpSession>();

  constructor(
    private readonly core: SchedulerCore,
    private readonly faults: FaultPlan,
  ) {}

  async requestTask(
    data: RequestTaskData,
    peer: string,
    session: DcpSession,
    run: (data: RequestTaskData) => Promise<unknown>,
  ): Promise<unknown> {
    if (!this.faults.armed) {
      if (this.#taskSessions.size) this.#taskSessions.clear();
      return run(data);
    }
    const worker: WorkerRef = { peer, workerId: data.coreStats?.worker, paymentAddress: data.paymentAddress };
    this.#taskSessions.set(workerKey(peer, worker.workerId), session);
    const plan = this.faults.forTask(worker);
    if (!plan) return run(data);
    if (plan.refuse) {
      this.core.ctx.logger.info({ worker: peer, fault: plan.refuse.fault }, 'fault: task request refused');
      if (plan.refuse.error) throw plan.refuse.error;
      // asked for no cores: the worker stays alive (leases renewed) and gets the empty answer
      return run({ ...data, targetLoad: { cpu: 0 } });
    }
    const answer = await run(
      plan.skipJobs.length
        ? { ...data, rejectedJobs: [...(data.rejectedJobs ?? []), ...plan.skipJobs] }
        : data,
    );
    const jobs = taskJobs(answer);
    const delay = jobs.length
      ? plan.delays.find(
          (d) => (d.job === undefined || jobs.includes(d.job)) && this.faults.taskDelayed(d.fault),
        )
      : undefined;
    if (delay) {
      this.core.ctx.logger.info({ worker: peer, fault: delay.fault, ms: delay.ms }, 'fault: task delayed');
      await sleep(delay.ms);
    }
    return answer;
  }

  async result(
    data: ResultData,
    peer: string,
    session: DcpSession,
    run: (data: ResultData) => Promise<{ metrics: Record<string, number>; slicePaymentAmount: string }>,
  ): Promise<{ metrics: Record<string, number>; slicePaymentAmount: string }> {
    if (!this.faults.armed) return run(data);
    const { ctx } = this.core;
    const worker: WorkerRef = { peer, workerId: data.worker, paymentAddress: data.paymentAddress };
    const action = this.faults.forResult(worker, data.job);
    const log = { job: data.job, slice: data.slice, worker: peer, fault: action?.fault };
    if (action?.kind === 'dropResult') {
      // lost on the way: the worker hears "accepted", the slice is computed again
      const key = workerKey(peer, data.worker);
      if (!action.keepLease && ctx.store.requeue(data.job, [data.slice], key, ctx.clock.now()))
        this.core.leases.requeued();
      ctx.logger.info(log, 'fault: result dropped');
      const job = await ctx.store.getJob(data.job);
      return { metrics: job ? jobMetrics(job) : {}, slicePaymentAmount: '0' };
    }
    if (action?.kind === 'delayResult') {
      ctx.logger.info({ ...log, ms: action.ms }, 'fault: result delayed');
      await sleep(action.ms);
    }
    if (action?.kind === 'corruptResult') {
      ctx.logger.info(log, 'fault: result corrupted');
      data = { ...data, resultV2: undefined, result: dataUri.encode(action.value) };
    }
    const answer = await run(data);
    const after = this.faults.afterResult(worker, data.job);
    if (after?.crash) {
      const crash = after.crash;
      ctx.logger.warn({ ...log, fault: crash.fault, how: crash.how }, 'fault: crashing the worker');
      setImmediate(() => void this.#crash(worker, session, crash.how));
    }
    if (after?.disconnect) {
      const sessions = ctx.events.subscriberSessions(data.job);
      ctx.logger.warn(
        { job: data.job, fault: after.disconnect.fault, clients: sessions.length },
        'fault: disconnecting the clients of the job',
      );
      setImmediate(() => {
        for (const s of sessions) s.dropLink('dcp-emu fault: client disconnected');
      });
    }
    return answer;
  }

  /**
   * SchedMsg `kill` to the worker (by worker id, else identity), then close its sessions and put the
   * slices it holds back in the queue.
   */
  async #crash(worker: WorkerRef, resultSession: DcpSession, how: 'kill' | 'drop'): Promise<void> {
    const { events } = this.core.ctx;
    const key = workerKey(worker.peer, worker.workerId);
    const taskSession = this.#taskSessions.get(key);
    const sessions = [resultSession, ...(taskSession ? [taskSession] : [])];
    if (how === 'kill') {
      let delivered = worker.workerId ? events.schedMsg('command', 'kill', {}, worker.workerId) : 0;
      if (!delivered) delivered = events.schedMsg('command', 'kill', {}, worker.peer);
      // a killed worker closes its connections as it exits; one that does not is cut off
      if (delivered) await Promise.race([Promise.all(sessions.map((s) => s.whenClosed)), sleep(3_000)]);
    }
    this.#taskSessions.delete(key);
    for (const s of sessions) {
      s.dropLink('dcp-emu fault: worker crashed');
      if (!s.isClosed) s.abort();
    }
    // whatever it held is computed again at once (a late result of it still counts, once)
    const { store, clock, logger } = this.core.ctx;
    const n = store.requeueWorker(key, clock.now());
    if (n) {
      logger.info({ worker: key, slices: n }, 'fault: the crashed worker’s slices re-queued');
      this.core.leases.requeued();
    }
  }
}
