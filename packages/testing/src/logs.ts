/** Scanning the services' pino JSON logs (one JSON object a line, numeric `level`: 50 error, 60 fatal). */
import { readFileSync } from 'node:fs';

export const PINO_ERROR = 50;

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** The JSON log lines of `text` at `minLevel` or above (default: error and fatal). Other lines are skipped. */
export function errorLines(text: string, minLevel = PINO_ERROR): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      continue;
    }
    const level = (parsed as { level?: unknown }).level;
    if (typeof level === 'number' && level >= minLevel) out.push(parsed as LogLine);
  }
  return out;
}

/** As errorLines(), for a log file (a missing file has none). */
export function errorLinesOfFile(file: string, minLevel = PINO_ERROR): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return errorLines(text, minLevel);
}
