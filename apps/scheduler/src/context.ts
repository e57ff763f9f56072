import type { Identity, Logger, Random } from '@dcp-emu/protocol/node';
import type { TaskTuning } from './config';
import type { EventRouter } from './events/event-router';
import type { JobMoney } from './escrow/escrow';
import type { Clock } from './ports/clock';
import type { JobStore } from './state/job-store';
import type { ComputeGroupRepository } from './store/compute-groups.repository';
import type { PackageRepository } from './store/package.repository';

/** What every use case works with: state, events, ports and tuning. */
export interface SchedulerContext {
  /** jobs, slices, leases, results and reliable events: in memory, journaled per tick */
  store: JobStore;
  groups: ComputeGroupRepository;
  packages: PackageRepository;
  events: EventRouter;
  clock: Clock;
  random: Random;
  /** money for jobs: escrow at the bank, or `NoEscrow` when unmetered */
  escrow: JobMoney;
  identity: Identity;
  logger: Logger;
  tuning: TaskTuning;
}

export const SCHEDULER_CONTEXT = Symbol('SCHEDULER_CONTEXT');
