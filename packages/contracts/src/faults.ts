import { z } from 'zod';

/**
 * The scheduler's fault injection (`POST /admin/faults` takes a fault spec; `GET /admin/faults` and the
 * open, read-only `GET /api/faults` answer the list; `DELETE /admin/faults[/:id]` answers `{cleared}`).
 * The scheduler parses what it takes with `faultSpec`; the portal and the CLI check its answers with
 * `faultList` / `faultsCleared`.
 */

const address = z.string().min(1).max(200);
const ms = z.number().int().min(0).max(3_600_000);

/** What every fault may say about where and how often it acts. */
const scope = {
  /** only this job (its id) */
  job: z.string().min(1).max(200).optional(),
  /** only this worker: its identity address, payment address or worker id (any case) */
  worker: address.optional(),
  /** how many times it acts before it is spent (default 1: one-shot); "always": until cleared */
  times: z.union([z.number().int().min(1).max(1_000_000), z.literal('always')]).default(1),
  /** chance (0…1) that a matching event is hit, drawn from the fault's own seeded generator */
  probability: z.number().min(0).max(1).default(1),
  /** seed of that generator (default 1): the same seed and events hit the same events */
  seed: z.number().int().min(0).max(0xffffffff).default(1),
};

/**
 * A fault as `POST /admin/faults` takes it. Each kind acts at one hook point of the scheduler:
 *
 * - `crashWorker`: once `afterSlices` results of its scope were accepted, the worker that sent the last
 *   one is sent SchedMsg `kill` (our worker and dcp-worker 3.3.19 exit with code 130) and its DCP
 *   sessions are closed (`how: 'kill'`, default), or only its sessions are closed (`how: 'drop'`: it
 *   reconnects); the slices it held go back in the queue at once and are computed again.
 * - `dropResult`: a result is answered as accepted but thrown away; its slice goes back in the queue
 *   (`keepLease`: only when its lease runs out, as a result lost on the way would).
 * - `delayResult`: a result is held `ms` before it is processed (slow slices).
 * - `corruptResult`: a result's value is replaced by `value` (default the string
 *   "dcp-emu: corrupted result") before it is stored: the client gets the wrong value.
 * - `delayTask`: a task that hands out slices (of `job`, when scoped) is answered `ms` late.
 * - `refuseTask`: `requestTask` gets no work (`answer: 'noWork'`, default; scoped to a job: no slices of
 *   that job) or an error (`answer: 'error'`, EPIPE).
 * - `bankDown`: for `durationMs` (default: until cleared) every call of the scheduler to the bank fails as
 *   if the bank were unreachable (ENOBANK): submits are refused, results are still accepted and owed,
 *   payments are settled once the bank is back.
 * - `disconnectClient`: after `afterResults` results (default 1) of the job, the connection of every
 *   client subscribed to it is dropped (dcp-client reconnects and resumes its session).
 */
export const faultSpec = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('crashWorker'),
    afterSlices: z.number().int().min(1).max(1_000_000).default(1),
    how: z.enum(['kill', 'drop']).default('kill'),
    ...scope,
  }),
  z.object({ kind: z.literal('dropResult'), keepLease: z.boolean().optional(), ...scope }),
  z.object({ kind: z.literal('delayResult'), ms, ...scope }),
  z.object({ kind: z.literal('corruptResult'), value: z.unknown().optional(), ...scope }),
  z.object({ kind: z.literal('delayTask'), ms, ...scope }),
  z.object({
    kind: z.literal('refuseTask'),
    answer: z.enum(['noWork', 'error']).default('noWork'),
    ...scope,
  }),
  z.object({
    kind: z.literal('bankDown'),
    durationMs: z.number().int().min(1).max(86_400_000).optional(),
  }),
  z.object({
    kind: z.literal('disconnectClient'),
    job: z.string().min(1).max(200),
    afterResults: z.number().int().min(1).max(1_000_000).default(1),
    times: scope.times,
  }),
]);
export type FaultSpec = z.output<typeof faultSpec>;
export type FaultKind = FaultSpec['kind'];

/** What the scheduler adds to a spec when it lists a fault. */
export const faultState = z.object({
  id: z.string(),
  /** how many times it acted */
  fired: z.number().int().min(0),
  /** spent (acted `times` times, or its bank outage ended); kept in the list until cleared */
  spent: z.boolean(),
  createdAt: z.string(),
  /** bankDown with a duration: when the bank comes back */
  until: z.string().optional(),
});

/** A fault as the REST API lists it: its spec (defaults filled in) and its state. */
export const faultView = z.intersection(faultSpec, faultState);
export type FaultView = z.output<typeof faultView>;

/** `GET /api/faults`, `GET /admin/faults` */
export const faultList = z.object({ faults: z.array(faultView) });
/** `POST /admin/faults` */
export const addedFault = z.object({ fault: faultView });
/** `DELETE /admin/faults`, `DELETE /admin/faults/:id`: how many were removed */
export const faultsCleared = z.object({ cleared: z.number().int().min(0) });
