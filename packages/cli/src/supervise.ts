import { appendFileSync } from 'node:fs';
import { describePortHolder, portHolder } from '@dcp-emu/service-kit';
import { launch, type Running, type ServiceSpec, tail } from './stack';
import type { ProcessInfo } from './stack-file';

/** Side effects of supervision, injectable for tests. */
export interface SupervisorPorts {
  launch(spec: ServiceSpec, dataDir: string): Running;
  /** who holds a port, as a message; undefined when it is free */
  portHeld(port: number): string | undefined;
  /** a line for the developer's terminal */
  say(line: string): void;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const nodePorts: SupervisorPorts = {
  launch,
  portHeld: (port) => {
    const h = portHolder(port);
    return h ? describePortHolder(h) : undefined;
  },
  say: (line) => process.stderr.write(`${line}\n`),
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
};

export interface BackOff {
  /** first delay after an unexpected exit */
  initialMs: number;
  maxMs: number;
  /** a run at least this long resets the delay to `initialMs` */
  stableMs: number;
}

export const defaultBackOff: BackOff = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

/**
 * One service process under `dcp-emu up`: restarted with exponential back-off when it exits
 * unexpectedly (each restart counted, logged to the terminal and the service's own log), never
 * started while another process holds one of its ports (that process's pid is reported instead of
 * a restart loop), and stopped for good by `stop()`.
 */
export class SupervisedService {
  current: Running | undefined;
  info: ProcessInfo = { state: 'starting', restarts: 0 };
  #stopping = false;
  #delay: number;
  #startedAt = 0;
  #loop: Promise<void> | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly dataDir: string,
    private readonly onChange: () => void,
    private readonly ports: SupervisorPorts = nodePorts,
    private readonly backOff: BackOff = defaultBackOff,
  ) {
    this.#delay = backOff.initialMs;
  }

  /** The first start: throws when a port is taken (so `up` can say so and stop). */
  start(): Running {
    const held = this.#heldPort();
    if (held) {
      this.#set({ state: 'blocked', blockedBy: held });
      throw new Error(`cannot start ${this.spec.name}: ${held}`);
    }
    return this.#launch();
  }

  /** Watches the running process and restarts it on unexpected exits, until `stop()`. */
  supervise(): void {
    this.#loop ??= this.#superviseLoop();
  }

  async #superviseLoop(): Promise<void> {
    while (!this.#stopping) {
      const running = this.current;
      if (!running) return;
      const code = await running.exited;
      if (this.#stopping) return;
      const ranMs = this.ports.now() - this.#startedAt;
      if (ranMs >= this.backOff.stableMs) this.#delay = this.backOff.initialMs;
      const lastExit = `${new Date(this.ports.now()).toISOString()} code ${code}`;
      this.#set({ state: 'restarting', lastExit, pid: undefined });
      this.#note(
        `${this.spec.name} exited unexpectedly (code ${code}); restarting in ${(this.#delay / 1000).toFixed(1)}s (restart ${this.info.restarts + 1})`,
        true,
      );
      // wait, then wait more while a stray process holds one of the ports
      let reported: string | undefined;
      for (;;) {
        await this.ports.sleep(this.#delay);
        this.#delay = Math.min(this.backOff.maxMs, this.#delay * 2);
        if (this.#stopping) return;
        const held = this.#heldPort();
        if (!held) break;
        if (held !== reported) {
          this.#note(`${this.spec.name} cannot restart: ${held}; retrying`, false);
          reported = held;
        }
        this.#set({ state: 'blocked', blockedBy: held });
      }
      this.info = { ...this.info, restarts: this.info.restarts + 1 };
      this.#launch();
    }
  }

  /** No more restarts (the caller stops the process). */
  stop(): void {
    this.#stopping = true;
    this.#set({ state: 'stopped' });
  }

  #launch(): Running {
    const running = this.ports.launch(this.spec, this.dataDir);
    this.current = running;
    this.#startedAt = this.ports.now();
    this.#set({ state: 'running', pid: running.child.pid, blockedBy: undefined });
    return running;
  }

  #heldPort(): string | undefined {
    for (const port of this.spec.ports) {
      const held = this.ports.portHeld(port);
      if (held) return held;
    }
    return undefined;
  }

  #note(line: string, withTail: boolean): void {
    const logFile = this.current?.logFile;
    const t = withTail && logFile ? tail(logFile, 15) : '';
    this.ports.say(`dcp-emu: ${line}${t ? `\n${t}` : ''}`);
    if (logFile) {
      try {
        appendFileSync(
          logFile,
          `${JSON.stringify({ level: 40, time: this.ports.now(), service: 'dcp-emu', msg: line, restarts: this.info.restarts })}\n`,
        );
      } catch {
        /* the log is best effort */
      }
    }
  }

  #set(patch: Partial<ProcessInfo>): void {
    const next: ProcessInfo = { ...this.info, ...patch };
    for (const k of Object.keys(patch) as (keyof ProcessInfo)[]) if (patch[k] === undefined) delete next[k];
    this.info = next;
    this.onChange();
  }
}
