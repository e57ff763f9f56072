import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel } from './syslog';

/**
 * dcp-worker's `-o logfile`: every line appended to a file as `ISO-time level message`; SIGHUP (from
 * logrotate) closes the file and opens it again under the same name.
 */
export class LogfileSink {
  #stream: WriteStream;
  readonly #onHup = () => this.reopen();

  constructor(
    readonly path: string,
    readonly onError: (e: Error) => void = (e) => process.stderr.write(`logfile: ${e.message}\n`),
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#stream = this.#open();
    process.on('SIGHUP', this.#onHup);
  }

  #open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a' });
    stream.on('error', (e) => this.onError(e));
    return stream;
  }

  reopen(): void {
    const old = this.#stream;
    this.#stream = this.#open();
    old.end();
  }

  write(level: LogLevel, text: string): void {
    const stamp = new Date().toISOString();
    for (const line of text.split('\n')) if (line) this.#stream.write(`${stamp} ${level} ${line}\n`);
  }

  close(): Promise<void> {
    process.off('SIGHUP', this.#onHup);
    return new Promise((resolve) => this.#stream.end(() => resolve()));
  }
}
