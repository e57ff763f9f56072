export { applyArgs, type EvaluatorConfig, loadEvaluatorConfig, usage } from './config';
export { main } from './cli';
export { type KvinVersion, kvinFor, kvinV8, kvinV9 } from './kvin';
export {
  dieLine,
  type InboundEnvelope,
  inboundEnvelope,
  LineReader,
  parseLine,
  resultLine,
} from './line-protocol';
export { EvaluatorManager, type ManagerLimits } from './manager';
export { Sandbox, type SandboxExit, type SandboxLimits } from './sandbox';
export { Session } from './session';
export { hasNoNodeSnapshot, type RunningEvaluator, startEvaluator } from './server';
