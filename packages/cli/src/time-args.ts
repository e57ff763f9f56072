import { parseArgs } from 'node:util';
import { UsageError } from './args';

export type TimeAction = 'status' | 'freeze' | 'advance' | 'resume';

const USAGE = 'usage: dcp-emu time status | time freeze | time advance DURATION (10m, 30s, 1h) | time resume';

/** `dcp-emu time …` arguments. */
export function parseTime(
  rest: string[],
  dataDirOf: (v: unknown) => string,
): { kind: 'time'; dataDir: string; action: TimeAction; by?: string; json: boolean } {
  let parsed: { values: { 'data-dir'?: string; json?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [action = 'status', by, extra] = positionals;
  const base = { kind: 'time' as const, dataDir: dataDirOf(values['data-dir']), json: values.json === true };
  if (action === 'advance') {
    if (by === undefined || extra !== undefined) throw new UsageError(USAGE);
    return { ...base, action: 'advance', by };
  }
  if ((action === 'status' || action === 'freeze' || action === 'resume') && by === undefined)
    return { ...base, action: action as TimeAction };
  throw new UsageError(USAGE);
}
