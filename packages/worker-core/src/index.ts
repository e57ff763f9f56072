/**
 * @dcp-emu/worker-core — our DCP worker's supervisor, browser-safe (no `node:*`, no native modules):
 * the supervisor core and its rooms, line-protocol sandboxes over any channel (a TCP evaluator
 * connection in `apps/worker`, a Web Worker in the portal), artifact fetching under the network
 * policy, compute-group credentials and scheduler discovery. DCPv5 comes from `@dcp-emu/protocol`.
 */
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
// the sandbox protocol: all of line-sandbox.ts (apps/worker's evaluator-sandbox.ts re-exports it by name)
export * from './line-sandbox';
export { type DiscoveredScheduler, discoverScheduler } from './scheduler-config';
export {
  canTransition,
  IllegalSliceTransition,
  SLICE_EVENTS,
  SLICE_LIFE,
  SLICE_LIVES,
  type SliceEvent,
  type SliceLife,
  transition,
} from './slice-life';
export {
  capabilityBits,
  type DcpTraffic,
  type MinimumWage,
  type ServiceLocations,
  type SliceMetrics,
  type SliceState,
  type SliceView,
  SupervisorCore,
  type SupervisorCoreOptions,
  type SupervisorEvents,
} from './supervisor-core';
