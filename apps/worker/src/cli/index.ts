export {
  type CliOptions,
  configFlag,
  type OutputMode,
  parseArgs,
  type SyslogSettings,
  sandboxCount,
  UsageError,
  usage,
} from './args';
export { main, resolveOptions } from './main';
export {
  type RunningWorker,
  resolveIdentity,
  resolvePaymentAddress,
  startWorker,
  waitForEvaluator,
} from './run-worker';
export { configNode, effectiveConfig, statusReport } from './show-config';
