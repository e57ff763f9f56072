import type { Generation } from '@dcp-emu/protocol/node';

/**
 * The dcp-client configuration served at `/etc/dcp-config.kvin`: every service location (URL
 * objects, built from the request's host so clients reach them), the version gates of dcp-client
 * and dcp-worker, and the job upload tuning (§1.4–1.5 of the client spec, §A.2 of the worker spec).
 */
export function dcpClientConfig(
  base: URL,
  locations: Record<string, URL>,
  bankTeller: URL,
  generation: Generation,
  workerPollSeconds: number,
): Record<string, unknown> {
  const services: Record<string, { location: URL }> = {};
  for (const [name, location] of Object.entries(locations))
    if (name !== 'packageManager') services[name] = { location };
  // the signed-POST database API (compute.getJobInfo, managed workers): apps/scheduler/src/jnu
  services.jnu = { location: new URL('/jnu/', base) };
  const packageManager =
    locations.packageManager ??
    new URL(generation === 4 ? '/v4/package-manager/' : '/package-manager/', base);
  return {
    scheduler: {
      location: new URL('/', base),
      compatibility: { minimum: { dcp: '^5.0.0' } },
      worker: { types: ['v4'], operations: '1.0.0' },
      services,
    },
    bank: { location: bankTeller, services: { bankTeller: { location: bankTeller } } },
    packageManager: { location: packageManager },
    job: {
      maxDeployTime: 60,
      deployAttempts: 10,
      deployCloseTimeout: 10,
      sliceUploadErrorTolerance: 3,
      uploadSlicesCeiling: 10e6,
      uploadSlicesTarget: 1e6,
      uploadIncreaseFactor: 2,
      uploadInitialNumberOfSlices: 10,
    },
    eventSubscriber: { seenListSize: 1000 },
    supervisor: { tuning: { watchdogInterval: workerPollSeconds } },
    // which worker supervisor generation clients' local workers use (dcp-util's dcping sets it)
    rollout: { supervisor: 2 },
    // dcp-client batches at most 20 messages (e.g. its answers to result events) per signed envelope
    // by default; the emulator takes any length, so fewer envelopes (signatures, acks) per slice
    dcp: { connectionOptions: { default: { maxMessagesPerBatch: 200 } } },
  };
}
