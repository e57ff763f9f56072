/**
 * The Node side of our worker's supervisor: `Supervisor` (the `@dcp-emu/worker-core` supervisor with
 * sandboxes in an evaluator over TCP), `EvaluatorSandbox`/`socketChannel`, `loadOrCreateWorkerId`;
 * and, for the CLI, dashboard and service, everything of `@dcp-emu/worker-core` they use.
 */
export {
  type Artifact,
  ArtifactFetcher,
  type ComputeGroupCredentials,
  capabilityBits,
  type DcpTraffic,
  type DiscoveredScheduler,
  discoverScheduler,
  eh1,
  type FetchPurpose,
  guardedFetch,
  type HttpFetch,
  isLocalHost,
  joinHashOf,
  type MinimumWage,
  OriginPolicy,
  type OriginPolicyOptions,
  parseComputeGroup,
  type Refusal,
  type ResolveHost,
  refusalMessage,
  type ServiceLocations,
  type SliceMetrics,
  type SliceState,
  type SliceView,
  SupervisorCore,
  type SupervisorCoreOptions,
  stackServices,
  workerComputeGroups,
} from '@dcp-emu/worker-core';
export { loadOrCreateWorkerId } from './discovery';
export {
  type AssignJob,
  defaultSandboxTimeouts,
  EvaluatorSandbox,
  type FetchRequestData,
  type FetchResponseData,
  type LineChannel,
  LineSandbox,
  type Measurement,
  type SandboxFactory,
  type SandboxHost,
  type SandboxTimeouts,
  type SliceOutcome,
  socketChannel,
} from './evaluator-sandbox';
export { Supervisor, type SupervisorOptions } from './supervisor';
