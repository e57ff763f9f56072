import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SchedulerCore } from '../core';
import type { JobStatus } from '../state/job-store';

const STATUSES: JobStatus[] = ['running', 'finished', 'cancelled'];

/**
 * The scheduler's Prometheus metrics (prom-client). Gauges are read from the job store when
 * scraped; counters move with the journal (results and settled payments as they become durable,
 * with each batch's transaction time) and the lease sweeper (expired leases).
 */
export class SchedulerMetrics {
  readonly registry = new Registry();

  constructor(core: SchedulerCore) {
    const store = core.ctx.store;
    const r = [this.registry];
    new Gauge({
      name: 'dcp_scheduler_jobs',
      help: 'Jobs by status',
      labelNames: ['status'],
      registers: r,
      async collect() {
        for (const status of STATUSES) this.set({ status }, await store.countJobs({ status: [status] }));
      },
    });
    new Gauge({
      name: 'dcp_scheduler_slices',
      help: 'Slices of running jobs by state (queued, leased, done)',
      labelNames: ['state'],
      registers: r,
      async collect() {
        const sum = { queued: 0, leased: 0, done: 0 };
        for (const job of store.runningJobs()) {
          const c = await store.sliceCounts(job.id);
          sum.queued += c.queued;
          sum.leased += c.leased;
          sum.done += c.done;
        }
        for (const [state, n] of Object.entries(sum)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'dcp_scheduler_workers_active',
      help: 'Workers holding at least one slice lease',
      registers: r,
      collect() {
        this.set(store.workers().filter((w) => w.slices.length > 0).length);
      },
    });
    const completed = new Counter({
      name: 'dcp_scheduler_slices_completed_total',
      help: 'Slice results accepted and durably recorded (rate() of it: slices/s)',
      registers: r,
    });
    const settled = new Counter({
      name: 'dcp_scheduler_payments_settled_total',
      help: 'Slice payments settled at the bank and durably recorded',
      registers: r,
    });
    const commits = new Histogram({
      name: 'dcp_scheduler_journal_commit_seconds',
      help: 'Time of one journal transaction (the group commit of a tick of state changes)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    });
    store.journal.observer = (batch, ms) => {
      if (batch.results.length) completed.inc(batch.results.length);
      if (batch.settled.length) settled.inc(batch.settled.length);
      commits.observe(ms / 1000);
    };
    const expiries = new Counter({
      name: 'dcp_scheduler_lease_expiries_total',
      help: 'Slice leases that expired (the slice was queued again)',
      registers: r,
    });
    const requeueExpired = store.requeueExpired.bind(store);
    store.requeueExpired = (now: number) => {
      const n = requeueExpired(now);
      if (n > 0) expiries.inc(n);
      return n;
    };
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
