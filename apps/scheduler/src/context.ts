import type { Identity, Logger, Random } from '@dcp-emu/protocol/node';
import type { TaskTuning } from './config';
import type { EventRouter } from './events/event-router';
import type { BankPort } from './ports/bank.port';
import type { Clock } from './ports/clock';
import type { SchedulerStore } from './store/scheduler-store';

/** What every use case works with: state, events, ports and tuning. */
export interface SchedulerContext {
  store: SchedulerStore;
  events: EventRouter;
  clock: Clock;
  random: Random;
  bank: BankPort;
  identity: Identity;
  logger: Logger;
  tuning: TaskTuning;
}

export const SCHEDULER_CONTEXT = Symbol('SCHEDULER_CONTEXT');
