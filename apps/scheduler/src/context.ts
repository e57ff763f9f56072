import type { Identity, Logger, Random } from '@dcp-emu/protocol/node';
import type { TaskTuning } from './config';
import type { EventRouter } from './events/event-router';
import type { JobMoney } from './escrow/escrow';
import type { Clock } from './ports/clock';
import type { SchedulerStore } from './store/scheduler-store';

/** What every use case works with: state, events, ports and tuning. */
export interface SchedulerContext {
  store: SchedulerStore;
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
