/**
 * `dcp-emu logs` readable by default: one pino JSON line → `time service level message k=v …`.
 * Lines that are not pino JSON (a crash's stack, a child's stderr) are printed as they are.
 */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every line carries that the pretty form shows elsewhere or not at all. */
const HIDDEN = new Set(['level', 'time', 'service', 'pid', 'name', 'msg', 'hostname', 'v']);

/** One field value, compact: strings bare (quoted when they hold spaces), objects as short JSON. */
function compact(value: unknown, max = 120): string {
  let text: string;
  if (typeof value === 'string') text = /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  else text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export interface PrettyOptions {
  /** the service name to show when a line has none (its log file's name) */
  service?: string;
  /** ANSI colours for the level */
  color?: boolean;
}

const COLOURS: Record<string, string> = { WARN: '33', ERROR: '31', FATAL: '35', DEBUG: '90', TRACE: '90' };

/** One log line, readable. */
export function prettyLine(line: string, o: PrettyOptions = {}): string {
  if (!line.startsWith('{')) return line;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (!rec || typeof rec !== 'object' || typeof rec.level !== 'number') return line;
  const time = typeof rec.time === 'number' ? clock(rec.time) : '--:--:--.---';
  const service = String(rec.service ?? rec.name ?? o.service ?? '').padEnd(9);
  let level = LEVELS[rec.level] ?? String(rec.level).padEnd(5);
  const colour = COLOURS[level.trim()];
  if (o.color && colour) level = `\x1b[${colour}m${level}\x1b[0m`;
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (HIDDEN.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const e = v as { message?: unknown; stack?: unknown; type?: unknown };
      fields.push(`err=${compact(e.message ?? e.type ?? v)}`);
      if (typeof e.stack === 'string') stack = e.stack;
      continue;
    }
    fields.push(`${k}=${compact(v)}`);
  }
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const head = `${time} ${service} ${level} ${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  return stack ? `${head}\n${stack.replace(/^/gm, '    ')}` : head;
}

/** A chunk of whole lines (each ending in "\n"), readable. */
export function prettyText(text: string, o: PrettyOptions = {}): string {
  if (!text) return text;
  const lines = text.split('\n');
  const last = lines.pop();
  const body = lines.map((l) => prettyLine(l, o)).join('\n');
  return lines.length ? `${body}\n${last ? prettyLine(last, o) : ''}` : prettyLine(last ?? '', o);
}
