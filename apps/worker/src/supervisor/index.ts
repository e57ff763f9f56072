export {
  type Artifact,
  ArtifactFetcher,
  type FetchPurpose,
  guardedFetch,
  type HttpFetch,
  isLocalHost,
  OriginPolicy,
  type OriginPolicyOptions,
  type Refusal,
  type ResolveHost,
  refusalMessage,
  stackServices,
} from './artifacts';
export {
  type ComputeGroupCredentials,
  eh1,
  joinHashOf,
  parseComputeGroup,
  workerComputeGroups,
} from './compute-groups';
export { type DiscoveredScheduler, discoverScheduler, loadOrCreateWorkerId } from './discovery';
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
export {
  capabilityBits,
  type MinimumWage,
  type ServiceLocations,
  type SliceMetrics,
  type SliceState,
  type SliceView,
  Supervisor,
  SupervisorCore,
  type SupervisorCoreOptions,
  type SupervisorOptions,
} from './supervisor';
