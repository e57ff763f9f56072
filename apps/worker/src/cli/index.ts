export { type CliOptions, type OutputMode, parseArgs, sandboxCount, UsageError, usage } from './args';
export { main } from './main';
export {
  type RunningWorker,
  resolveIdentity,
  resolvePaymentAddress,
  startWorker,
  waitForEvaluator,
} from './run-worker';
