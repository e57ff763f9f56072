/**
 * @dcp-emu/worker/browser — the parts of our worker that run in a browser page (no `node:*`, no
 * native modules): the supervisor core, line-protocol sandboxes over any channel (the portal puts a
 * Web Worker behind it), artifact fetching and scheduler discovery. DCPv5 comes from
 * `@dcp-emu/protocol` (noble crypto).
 */
export {
  type Artifact,
  ArtifactFetcher,
  type FetchPurpose,
  type HttpFetch,
  OriginPolicy,
} from './supervisor/artifacts';
export {
  type ComputeGroupCredentials,
  eh1,
  joinHashOf,
  parseComputeGroup,
  workerComputeGroups,
} from './supervisor/compute-groups';
export {
  type AssignJob,
  defaultSandboxTimeouts,
  type FetchRequestData,
  type FetchResponseData,
  type LineChannel,
  LineSandbox,
  type Measurement,
  type SandboxFactory,
  type SandboxHost,
  type SandboxTimeouts,
  type SliceOutcome,
} from './supervisor/line-sandbox';
export { type DiscoveredScheduler, discoverScheduler } from './supervisor/scheduler-config';
export {
  capabilityBits,
  type MinimumWage,
  type ServiceLocations,
  type SliceMetrics,
  type SliceState,
  type SliceView,
  SupervisorCore,
  type SupervisorCoreOptions,
} from './supervisor/supervisor-core';
