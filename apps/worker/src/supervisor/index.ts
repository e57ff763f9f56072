export {
  type Artifact,
  ArtifactFetcher,
  type FetchPurpose,
  type HttpFetch,
  OriginPolicy,
} from './artifacts';
export {
  type ComputeGroupCredentials,
  eh1,
  joinHashOf,
  parseComputeGroup,
  workerComputeGroups,
} from './compute-groups';
export {
  type AssignJob,
  defaultSandboxTimeouts,
  EvaluatorSandbox,
  type Measurement,
  type SandboxHost,
  type SandboxTimeouts,
  type SliceOutcome,
} from './evaluator-sandbox';
export {
  capabilityBits,
  type MinimumWage,
  type ServiceLocations,
  type SliceMetrics,
  type SliceView,
  Supervisor,
  type SupervisorOptions,
} from './supervisor';
export { type DiscoveredScheduler, discoverScheduler, loadOrCreateWorkerId } from './discovery';
