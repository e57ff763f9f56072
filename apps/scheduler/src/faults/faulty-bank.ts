import type { BankPort } from '../ports/bank.port';
import type { FaultPlan } from './fault-plan';

/**
 * The bank port behind the fault plan: while a `bankDown` fault is on, every call fails at once with
 * ENOBANK, as when the bank cannot be reached (the escrow retries settling; a submit is refused).
 */
export function faultyBank(bank: BankPort, faults: FaultPlan): BankPort {
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const down = faults.armed ? faults.bankFailure() : undefined;
      return down ? Promise.reject(down) : call(...args);
    };
  return {
    hold: guard((req) => bank.hold(req)),
    increase: guard((req) => bank.increase(req)),
    capture: guard((req) => bank.capture(req)),
    captureBatch: guard((captures) => bank.captureBatch(captures)),
    release: guard((hold) => bank.release(hold)),
    close: () => bank.close(),
  };
}
