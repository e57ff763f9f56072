export {
  ActivityMonitor,
  type ActivityPorts,
  type ActivitySettings,
  fileLoad,
  type LoadSource,
  type LoadavgType,
  type Monitor,
  ptsSessions,
  type SessionSource,
  systemLoad,
} from './activity';
export { main, type ManagerCliOptions, ManagerUsageError, parseManagerArgs, usage } from './cli';
export { EvaluatorManager, type EvaluatorManagerOptions } from './manager';
