import { createSocket, type Socket } from 'node:dgram';
import { hostname as osHostname } from 'node:os';

/** syslog facilities by name (RFC 5424 §6.2.1), as dcp-worker's `--syslogFacility` takes them. */
export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

/** Severities (RFC 5424 §6.2.1); dcp-worker maps error→Error, warn→Warning, log→Notice, info→Informational, debug→Debug. */
export const SEVERITY = { error: 3, warn: 4, log: 5, info: 6, debug: 7 } as const;
export type LogLevel = keyof typeof SEVERITY;

export type SyslogFormat = 'rfc5424' | 'rfc3164';

export interface SyslogMessage {
  facility: Facility;
  level: LogLevel;
  message: string;
  hostname: string;
  appName: string;
  pid: number;
  date: Date;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One syslog datagram: `<PRI>1 TIMESTAMP HOST APP PID - - MSG` (RFC 5424) or `<PRI>Mmm dd hh:mm:ss HOST APP[PID]: MSG` (RFC 3164). */
export function formatSyslog(m: SyslogMessage, format: SyslogFormat = 'rfc5424'): string {
  const pri = FACILITIES[m.facility] * 8 + SEVERITY[m.level];
  const host = m.hostname.replace(/\s/g, '') || '-';
  if (format === 'rfc3164') {
    const d = m.date;
    const pad = (n: number) => String(n).padStart(2, '0');
    const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return `<${pri}>${stamp} ${host} ${m.appName}[${m.pid}]: ${m.message}`;
  }
  return `<${pri}>1 ${m.date.toISOString()} ${host} ${m.appName || '-'} ${m.pid} - - ${m.message}`;
}

export interface SyslogOptions {
  address: string;
  port: number;
  facility: Facility;
  format: SyslogFormat;
  appName: string;
  hostname?: string;
  /** where send errors are reported (the first, then every 1000th); default stderr */
  onError?: (error: Error) => void;
}

/**
 * Sends log lines to a syslog server over UDP, one datagram per line, as dcp-worker's `-o syslog`
 * (its syslog-client, UDP by default) does. Lines sent before the address resolves are queued by dgram.
 */
export class SyslogSink {
  readonly #socket: Socket;
  readonly #hostname: string;
  #pending = 0;
  #drained: (() => void) | undefined;
  #closed = false;

  constructor(readonly options: SyslogOptions) {
    this.#socket = createSocket(options.address.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', (e) => this.#reportError(e));
    this.#socket.unref();
    this.#hostname = options.hostname ?? osHostname();
  }

  #errors = 0;

  /** A send error is reported once, then every 1000th time (an unreachable loghost must not flood stderr). */
  #reportError(e: Error): void {
    if (this.#errors++ % 1000 !== 0) return;
    const suffix = this.#errors > 1 ? ` (${this.#errors} errors so far)` : '';
    (this.options.onError ?? ((err: Error) => process.stderr.write(`syslog: ${err.message}\n`)))(
      new Error(`${e.message}${suffix}`),
    );
  }

  write(level: LogLevel, text: string): void {
    if (this.#closed) return;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const datagram = formatSyslog(
        {
          facility: this.options.facility,
          level,
          message: line,
          hostname: this.#hostname,
          appName: this.options.appName,
          pid: process.pid,
          date: new Date(),
        },
        this.options.format,
      );
      this.#pending++;
      this.#socket.send(datagram, this.options.port, this.options.address, (error) => {
        if (error) this.#reportError(error);
        if (--this.#pending === 0) this.#drained?.();
      });
    }
  }

  /** Waits for the queued datagrams to leave (bounded), then closes the socket. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending > 0)
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        setTimeout(resolve, timeoutMs).unref();
      });
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
