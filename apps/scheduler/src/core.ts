import type { ClockTimer } from '@dcp-emu/protocol/node';
import type { SchedulerContext } from './context';
import { AbandonedJobs } from './jobs/abandoned-jobs';
import { AddJobToGroups } from './jobs/add-job-to-groups.usecase';
import { AddSliceData } from './jobs/add-slice-data.usecase';
import { CancelAllJobs } from './jobs/cancel-all-jobs.usecase';
import { CancelJob } from './jobs/cancel-job.usecase';
import { CloseJob } from './jobs/close-job.usecase';
import { GroupAdmin } from './groups/group-admin.usecase';
import { JobLifecycle } from './jobs/job-lifecycle';
import { SubmitJob } from './jobs/submit.usecase';
import { Packages } from './modules/packages.usecase';
import { SendSchedMsg } from './schedmsg/send-schedmsg.usecase';
import { JobReports } from './pheme/job-report.usecase';
import { TaskAuthorizations } from './results/authorization';
import { JnuDatabase } from './jnu/jnu.usecase';
import { FetchResult } from './results/fetch-result.usecase';
import { ResultFeed } from './results/result-feed';
import { SubmitResult } from './results/submit-result.usecase';
import { WorkEmit } from './results/work-emit.usecase';
import { LeaseKeeper } from './tasks/lease-keeper';
import { ExplainJob } from './tasks/explain-job.usecase';
import { ReplaySlice } from './tasks/replay-slice.usecase';
import { RequestTask } from './tasks/request-task.usecase';
import { SliceStatus } from './tasks/slice-status.usecase';

/** Every use case of the scheduler, built once over one context. */
export class SchedulerCore {
  readonly lifecycle: JobLifecycle;
  readonly leases: LeaseKeeper;
  readonly submit: SubmitJob;
  readonly addSliceData: AddSliceData;
  readonly cancelJob: CancelJob;
  readonly cancelAllJobs: CancelAllJobs;
  readonly closeJob: CloseJob;
  readonly addJobToGroups: AddJobToGroups;
  readonly requestTask: RequestTask;
  readonly sliceStatus: SliceStatus;
  readonly submitResult: SubmitResult;
  readonly fetchResult: FetchResult;
  readonly results: ResultFeed;
  readonly workEmit: WorkEmit;
  readonly reports: JobReports;
  readonly packages: Packages;
  readonly sendSchedMsg: SendSchedMsg;
  readonly groupAdmin: GroupAdmin;
  readonly authorizations: TaskAuthorizations;
  readonly abandoned: AbandonedJobs;
  /** the jnu database service (getJobInfo, managed workers) */
  readonly jnu: JnuDatabase;
  readonly explain: ExplainJob;
  readonly replay: ReplaySlice;
  #abandonTimer?: ClockTimer;

  constructor(readonly ctx: SchedulerContext) {
    this.lifecycle = new JobLifecycle(ctx);
    this.leases = new LeaseKeeper(ctx);
    this.submit = new SubmitJob(ctx);
    this.addSliceData = new AddSliceData(ctx);
    this.cancelJob = new CancelJob(ctx, this.lifecycle);
    this.cancelAllJobs = new CancelAllJobs(ctx, this.lifecycle);
    this.closeJob = new CloseJob(ctx, this.lifecycle);
    this.addJobToGroups = new AddJobToGroups(ctx);
    this.authorizations = new TaskAuthorizations(ctx.identity);
    this.requestTask = new RequestTask(ctx, this.leases, this.authorizations);
    this.sliceStatus = new SliceStatus(ctx, this.lifecycle, this.leases, this.authorizations);
    this.results = new ResultFeed(ctx);
    this.submitResult = new SubmitResult(ctx, this.lifecycle, this.leases, this.authorizations, this.results);
    this.fetchResult = new FetchResult(ctx);
    this.jnu = new JnuDatabase(ctx);
    this.workEmit = new WorkEmit(ctx, this.lifecycle);
    this.reports = new JobReports(ctx);
    this.packages = new Packages(ctx);
    this.sendSchedMsg = new SendSchedMsg(ctx);
    this.groupAdmin = new GroupAdmin(ctx);
    this.abandoned = new AbandonedJobs(ctx, this.lifecycle, ctx.tuning.localExecAbandonMs);
    this.explain = new ExplainJob(ctx, () => this.leases.connected(), this.requestTask.requests);
    this.replay = new ReplaySlice(ctx);
  }

  /**
   * After a restart: jobs whose last results landed but whose `stop` was never stored are finished
   * now; leases of workers we no longer hear from expire through the sweeper.
   */
  async recover(): Promise<void> {
    this.ctx.groups.forget();
    await this.ctx.store.load();
    for (const job of await this.ctx.store.listJobs({ status: ['running'], limit: 10_000 }))
      await this.lifecycle.finishIfDone(job);
    this.leases.start();
    this.ctx.escrow.start();
    this.#abandonTimer ??= this.ctx.clock.setInterval(
      () =>
        void this.abandoned
          .sweep()
          .catch((error) => this.ctx.logger.warn({ err: error }, 'abandoned-job sweep failed')),
      Math.max(1_000, this.ctx.tuning.sweepMs),
    );
  }

  /** Stop the loops and write what memory holds (before a state restore or shutdown). */
  async stop(): Promise<void> {
    this.#abandonTimer?.cancel();
    this.#abandonTimer = undefined;
    this.leases.stop();
    await this.submitResult.idle();
    await this.ctx.escrow.stop();
    await this.ctx.store.journal.flush();
    this.ctx.store.clear();
  }
}

export const SCHEDULER_CORE = Symbol('SCHEDULER_CORE');
