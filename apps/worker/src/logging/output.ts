import { LogfileSink } from './logfile';
import { type Facility, type LogLevel, type SyslogFormat, SyslogSink } from './syslog';

export type OutputSettings =
  | { mode: 'console' | 'dashboard' }
  | { mode: 'logfile'; logfile: string }
  | {
      mode: 'syslog';
      syslog: { address: string; port: number; facility: Facility; format: SyslogFormat };
    };

/** Where the worker's lines go: the terminal (console), a file (logfile) or a syslog server (syslog). */
export interface LineOutput {
  /** an ordinary event line (dcp-worker's console.log: syslog severity notice) */
  out(line: string): void;
  /** a warning or error line */
  err(line: string): void;
  /** a sink for the JSON logs (pino destination), or undefined for stdout */
  readonly json: { write(chunk: string): void } | undefined;
  /** flush and close (syslog datagrams sent, file closed) */
  close(): Promise<void>;
}

const PINO_LEVELS: [number, LogLevel][] = [
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [0, 'debug'],
];

/** A pino JSON line's level as a syslog/logfile level. */
export function jsonLineLevel(line: string): LogLevel {
  const m = /"level":(\d+)/.exec(line);
  const n = m ? Number(m[1]) : 30;
  return (PINO_LEVELS.find(([min]) => n >= min) ?? [0, 'info'])[1];
}

export function openOutput(
  settings: OutputSettings,
  appName = 'dcp-emu-worker',
  std: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): LineOutput {
  if (settings.mode !== 'logfile' && settings.mode !== 'syslog')
    return {
      out: (l) => std.out(`${l}\n`),
      err: (l) => std.err(`${l}\n`),
      json: undefined,
      close: async () => {},
    };
  const sink =
    settings.mode === 'logfile'
      ? new LogfileSink(settings.logfile, (e) => std.err(`dcp-emu-worker: logfile: ${e.message}\n`))
      : new SyslogSink({
          ...settings.syslog,
          appName,
          onError: (e) => std.err(`dcp-emu-worker: syslog: ${e.message}\n`),
        });
  return {
    out: (l) => sink.write('log', l),
    err: (l) => sink.write('warn', l),
    json: { write: (chunk) => sink.write(jsonLineLevel(chunk), chunk.trimEnd()) },
    close: () => sink.close(),
  };
}
