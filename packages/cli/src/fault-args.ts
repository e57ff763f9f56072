import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind, type FaultSpec } from './faults-client';

/** `dcp-emu fault …` as parsed. */
export type FaultCommand =
  | { kind: 'fault'; dataDir: string; action: 'add'; spec: FaultSpec }
  | { kind: 'fault'; dataDir: string; action: 'list'; json: boolean }
  | { kind: 'fault'; dataDir: string; action: 'clear'; id?: string };

export const FAULT_USAGE = `usage: dcp-emu fault add KIND [options] | fault list [--json] | fault clear [ID]

kinds (scoped with --job ID and/or --worker ADDRESS|WORKER-ID):
  crashWorker       after --after N accepted results (default 1) the worker gets SchedMsg kill and its
                    connection is closed (--how drop: only the connection); its slices are computed again
  dropResult        a result is answered but thrown away; the slice is computed again (--keep-lease: it
                    waits for its lease first, as a result lost on the way would)
  delayResult       results are held --ms N (or --delay 2s) before they are processed
  corruptResult     a result's value is replaced (--value JSON, default "dcp-emu: corrupted result")
  delayTask         tasks that hand out slices are answered --ms N late
  refuseTask        requestTask gets no work (--answer error: an EPIPE error); with --job: no slices of it
  bankDown          the bank is unreachable for the scheduler for --duration 30s (default: until cleared)
  disconnectClient  after --after N results of --job (required), its clients' connections are dropped

options: --times N|always (default 1), --probability P (0…1), --seed N (deterministic), --data-dir DIR

example:  dcp-emu fault add crashWorker --after 100
          dcp-emu fault add dropResult --job 6a8Bq… --times 3
          dcp-emu fault add delayResult --delay 2s --probability 0.1 --seed 7
`;

export class FaultUsageError extends Error {}

/** '500ms', '30s', '10m', '1h' or a number of ms → ms. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new FaultUsageError(`not a duration: ${value}`);
    return Math.round(value);
  }
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new FaultUsageError(`not a duration: "${value}" (e.g. 500ms, 30s, 10m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

function positiveInt(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new FaultUsageError(`${what} must be a whole number, got "${value}"`);
  return n;
}

export function parseFaultCommand(rest: string[], dataDirOf: (v: unknown) => string): FaultCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        job: { type: 'string' },
        worker: { type: 'string' },
        times: { type: 'string' },
        probability: { type: 'string' },
        seed: { type: 'string' },
        ms: { type: 'string' },
        delay: { type: 'string' },
        after: { type: 'string' },
        how: { type: 'string' },
        duration: { type: 'string' },
        value: { type: 'string' },
        answer: { type: 'string' },
        'keep-lease': { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new FaultUsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const str = (k: string) => values[k] as string | undefined;
  const dataDir = dataDirOf(values['data-dir']);
  const [action, arg, extra] = positionals;
  if (extra !== undefined) throw new FaultUsageError(`unexpected argument "${extra}"`);
  if (action === 'list' && arg === undefined) return { kind: 'fault', dataDir, action, json: !!values.json };
  if (action === 'clear') return { kind: 'fault', dataDir, action, ...(arg ? { id: arg } : {}) };
  if (action !== 'add') throw new FaultUsageError('fault needs add, list or clear');
  if (!arg || !(FAULT_KINDS as readonly string[]).includes(arg))
    throw new FaultUsageError(
      `fault add needs a kind: ${FAULT_KINDS.join(', ')}${arg ? ` (got "${arg}")` : ''}`,
    );
  const kind = arg as FaultKind;
  const common: Record<string, unknown> = {};
  if (str('job')) common.job = str('job');
  if (str('worker')) common.worker = str('worker');
  const times = str('times');
  if (times !== undefined) common.times = times === 'always' ? 'always' : positiveInt(times, '--times');
  if (str('probability') !== undefined) {
    const p = Number(str('probability'));
    if (!(p >= 0 && p <= 1))
      throw new FaultUsageError(`--probability must be from 0 to 1, got "${str('probability')}"`);
    common.probability = p;
  }
  if (str('seed') !== undefined) common.seed = positiveInt(str('seed'), '--seed');
  const ms = str('ms') ?? str('delay');
  const need = (v: string | undefined, flag: string) => {
    if (v === undefined) throw new FaultUsageError(`${kind} needs ${flag}`);
    return v;
  };
  let spec: Record<string, unknown>;
  switch (kind) {
    case 'crashWorker': {
      const how = str('how');
      if (how !== undefined && how !== 'kill' && how !== 'drop')
        throw new FaultUsageError(`--how must be kill or drop, got "${how}"`);
      spec = {
        kind,
        ...(str('after') ? { afterSlices: positiveInt(str('after'), '--after') } : {}),
        ...(how ? { how } : {}),
      };
      break;
    }
    case 'delayResult':
    case 'delayTask':
      spec = { kind, ms: parseDuration(need(ms, '--ms N or --delay 2s')) };
      break;
    case 'corruptResult': {
      const v = str('value');
      let value: unknown;
      if (v !== undefined)
        try {
          value = JSON.parse(v);
        } catch {
          value = v;
        }
      spec = { kind, ...(v !== undefined ? { value } : {}) };
      break;
    }
    case 'refuseTask': {
      const answer = str('answer');
      if (answer !== undefined && answer !== 'noWork' && answer !== 'error')
        throw new FaultUsageError(`--answer must be noWork or error, got "${answer}"`);
      spec = { kind, ...(answer ? { answer } : {}) };
      break;
    }
    case 'bankDown':
      // no scope or count: the bank is down for everyone, for a while
      return {
        kind: 'fault',
        dataDir,
        action,
        spec: { kind, ...(str('duration') ? { durationMs: parseDuration(str('duration') as string) } : {}) },
      };
    case 'disconnectClient':
      need(str('job'), '--job ID');
      spec = { kind, ...(str('after') ? { afterResults: positiveInt(str('after'), '--after') } : {}) };
      break;
    case 'dropResult':
      spec = { kind, ...(values['keep-lease'] ? { keepLease: true } : {}) };
      break;
    default:
      spec = { kind };
  }
  if (values['keep-lease'] && kind !== 'dropResult')
    throw new FaultUsageError('--keep-lease goes with dropResult only');
  return { kind: 'fault', dataDir, action, spec: { ...common, ...spec } as FaultSpec };
}
