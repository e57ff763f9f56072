import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { type Kvin, kvinV8 } from './kvin';

/** A dcp-emu-evaluator child process (it is its own process in production too). */
export interface EvaluatorProcess {
  port: number;
  child: ChildProcess;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  /** Resolves when the output matches `pattern` (checked on every write); rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `dcp-emu-evaluator -p 0` from the TypeScript sources and waits for its listening log line. */
export async function spawnEvaluator(
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  /** give the evaluator a stdin pipe (as the worker does for `--exit-with-parent`) */
  stdinPipe = false,
): Promise<EvaluatorProcess> {
  const cli = join(__dirname, 'cli.ts');
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', cli, '-p', '0'], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, DCP_EMU_LOG_LEVEL: 'info', ...env },
    stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const collect = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`evaluator did not start:\n${out}`)), timeoutMs);
    const onData = () => {
      const m = /"port":(\d+),"msg":"evaluator listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`evaluator exited with ${code}:\n${out}`));
    });
  });
  return {
    port,
    child,
    output: () => out,
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} in evaluator output:\n${out}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** One evaluator → supervisor line, decoded. */
export type EvaluatorLine =
  | { kind: 'message'; ring: number; value: Record<string, unknown> }
  | { kind: 'result'; success: boolean; raw: Record<string, unknown> }
  | { kind: 'die'; text: string }
  | { kind: 'other'; text: string };

/**
 * A hand-written supervisor side of the line protocol: sends KVIN-marshalled messages, decodes
 * every line, and waits (bounded) for a matching one.
 */
export class LineClient {
  readonly lines: EvaluatorLine[] = [];
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(
    readonly socket: Socket,
    private readonly kvin: Kvin,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl = this.buf.indexOf('\n');
      while (nl >= 0) {
        this.lines.push(this.decode(this.buf.slice(0, nl)));
        this.buf = this.buf.slice(nl + 1);
        nl = this.buf.indexOf('\n');
      }
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, kvin: Kvin = kvinV8): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new LineClient(socket, kvin)));
      socket.once('error', reject);
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private decode(line: string): EvaluatorLine {
    if (line.startsWith('DIE:')) return { kind: 'die', text: line.slice(4).trim() };
    if (!line.startsWith('MSG:')) return { kind: 'other', text: line };
    const env = JSON.parse(line.slice(4)) as Record<string, unknown>;
    if (env.type === 'workerMessage') {
      const m = this.kvin.unmarshal(env.message) as { ringSource: number; value: Record<string, unknown> };
      return { kind: 'message', ring: m.ringSource, value: m.value };
    }
    return { kind: 'result', success: env.success === true, raw: env };
  }

  /** Sends `{type:'workerMessage', message: kvin.marshal(message)}`. */
  send(message: Record<string, unknown>): void {
    this.sendRaw(JSON.stringify({ type: 'workerMessage', message: this.kvin.marshal(message) }));
  }

  sendRaw(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** Waits for the first line (from index `from`) matching `pred`; rejects after `timeoutMs`. */
  async waitFor(pred: (l: EvaluatorLine) => boolean, timeoutMs = 10_000, from = 0): Promise<EvaluatorLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error(`connection closed; lines: ${JSON.stringify(this.lines)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; lines: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a ring message whose `request` is `request`. */
  async request(request: string, timeoutMs?: number, from = 0): Promise<Record<string, unknown>> {
    const l = await this.waitFor((x) => x.kind === 'message' && x.value.request === request, timeoutMs, from);
    return (l as { value: Record<string, unknown> }).value;
  }

  /** Waits until the evaluator closes the connection. */
  async closedWithin(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** describe → applyRequirements → assign (answering `dependency` from `modules`) → assigned. */
export async function assignJob(
  client: LineClient,
  workFunction: string,
  opts: {
    arguments?: unknown[];
    modules?: Record<string, Record<string, string>>;
    dependencies?: string[];
  } = {},
): Promise<void> {
  client.send({ request: 'describe' });
  await client.request('describe');
  client.send({ request: 'applyRequirements', requirements: { environment: {} }, worktime: 'map-basic' });
  await client.request('applyRequirementsDone');
  const from = client.lines.length;
  client.send({
    request: 'assign',
    job: {
      address: '0x1111111111111111111111111111111111111111',
      arguments: opts.arguments ?? [],
      dependencies: opts.dependencies ?? [],
      modulePath: [],
      requirePath: [],
      public: { name: 'test job' },
      workFunction,
      useStrict: false,
      worktime: { name: 'map-basic', version: '1.0.0' },
    },
    sandboxConfig: { progressThrottle: 0 },
  });
  if (opts.dependencies?.length) {
    const dep = await client.request('dependency', 10_000, from);
    client.send({ request: 'moduleGroup', id: dep.id, data: opts.modules ?? {} });
  }
  await client.request('assigned', 10_000, from);
}

/** resetState → main(datum); resolves with the ring-3 line that ends the slice. */
export async function runSlice(
  client: LineClient,
  datum: unknown,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  client.send({ request: 'resetState' });
  const from = client.lines.length;
  client.send({ request: 'main', data: datum });
  const end = await client.waitFor(
    (l) =>
      l.kind === 'message' &&
      l.ring === 3 &&
      ['complete', 'workError', 'workReject', 'sandboxError', 'noProgress'].includes(String(l.value.request)),
    timeoutMs,
    from,
  );
  return (end as { value: Record<string, unknown> }).value;
}
