import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DcpErrorCode } from '@dcp-emu/protocol';
import ivm from 'isolated-vm';
import { type KvinVersion, kvinFor, kvinSources } from './kvin';
import { dieLine } from './line-protocol';

/** What a sandbox tells its session: one protocol line to write, with the prelude's bookkeeping kind. */
export type LineKind =
  | 'msg'
  | 'progress'
  | 'slice-start'
  | 'slice-end'
  | 'die'
  | 'wake'
  | 'fatal'
  | 'enomem'
  | 'wasm';

/** Why a sandbox ended. `null` code: an orderly close (die request, work.reject, peer gone). */
export interface SandboxExit {
  code: DcpErrorCode | null;
  message: string;
}

export interface SandboxLimits {
  memoryLimitMb: number;
  progressTimeoutMs: number;
  sliceCpuLimitMs: number;
  callTimeoutMs: number;
  /** WebAssembly memory a sandbox may create, charged at each memory's maximum (bytes). */
  wasmBudgetBytes: number;
  /** The process-wide cap of one WebAssembly.Memory, in 64 KiB pages. */
  wasmMaxPages: number;
}

export interface SandboxHooks {
  /** A line for the supervisor (already framed, without the newline). */
  line(kind: LineKind, line: string): void;
  /** The sandbox is gone; called exactly once. */
  exit(exit: SandboxExit): void;
}

interface Script {
  name: string;
  source: string;
  cache?: ivm.ExternalCopy<ArrayBuffer>;
}

/* The in-sandbox scripts live in src/evaluator/prelude as plain JS; the same relative path works
 * from src/evaluator (tsx, vitest) and dist/evaluator (built), as both sit two levels below the
 * package root. */
const preludeDir = join(__dirname, '..', '..', 'src', 'evaluator', 'prelude');
let scripts: Script[] | undefined;

/**
 * The scripts every sandbox runs before any job code, in order: the polyfills, both KVIN builds and
 * the prelude (`dcp-emu replay --inspect` runs the same ones in a Node `vm` context).
 */
export function bootScripts(): readonly Readonly<Pick<Script, 'name' | 'source'>>[] {
  return scriptList();
}

function scriptList(): Script[] {
  if (!scripts) {
    const kvin = kvinSources();
    scripts = [
      {
        name: 'sandbox-polyfills.js',
        source: readFileSync(join(preludeDir, 'sandbox-polyfills.js'), 'utf8'),
      },
      /* strict, like the prelude: V8 then hides these frames' functions from CallSites */
      { name: 'kvin-v9.js', source: `'use strict';${kvin.v9}` },
      {
        name: 'kvin-stash.js',
        source:
          'globalThis.__dcpEmuKvin9 = globalThis.KVIN; delete globalThis.KVIN; delete globalThis.module;',
      },
      { name: 'kvin-v8.js', source: `'use strict';${kvin.v8}` },
      { name: 'kvin-stash-v8.js', source: 'delete globalThis.module;' },
      { name: 'sandbox-prelude.js', source: readFileSync(join(preludeDir, 'sandbox-prelude.js'), 'utf8') },
    ];
  }
  return scripts;
}

let lastId = 0;

/**
 * One sandbox: a fresh V8 isolate with its own heap limit, running DCP's sandbox environment
 * (our prelude). Only strings cross the boundary: lines in through `dispatch`, lines out through a
 * fire-and-forget callback. All calls into the isolate are serialized; timers of the sandbox's
 * virtual event loop are woken by one host timer.
 */
export class Sandbox {
  readonly id = ++lastId;
  private queue: Promise<void> = Promise.resolve();
  private wake: { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout } | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private exited = false;
  private killing: SandboxExit | undefined;
  private sliceActive = false;
  private sliceCpuStart = 0n;
  private lastProgressAt = 0;
  private busy = false;
  private measuring = false;
  private lastHeap = 0;
  /** WebAssembly memory charged to this sandbox (its memories' maxima), as the prelude reports it. */
  private wasmBytes = 0;
  /** KVIN version of the peer (dcp-worker 3.3.19 speaks v8); used for host-made notices. */
  peerKvin: KvinVersion = 'v8';

  private constructor(
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly dispatchRef: ivm.Reference<(json: string) => number>,
    private readonly tickRef: ivm.Reference<() => number>,
    private readonly limits: SandboxLimits,
    private readonly hooks: SandboxHooks,
  ) {}

  /** Creates the isolate, runs the prelude (which reports scriptLoaded/__sandboxLoaded). */
  static async create(limits: SandboxLimits, hooks: SandboxHooks): Promise<Sandbox> {
    const isolate = new ivm.Isolate({ memoryLimit: limits.memoryLimitMb });
    try {
      const context = await isolate.createContext();
      let sandbox: Sandbox | undefined;
      const early: Array<[LineKind, string]> = [];
      const send = new ivm.Callback(
        (kind: unknown, line: unknown) => {
          if (typeof kind !== 'string' || typeof line !== 'string') return;
          if (sandbox) sandbox.fromSandbox(kind, line);
          else early.push([kind as LineKind, line]);
        },
        { ignored: true },
      );
      await context.global.set('__dcpEmuSend', send);
      await context.global.set(
        '__dcpEmuLimits',
        JSON.stringify({ budgetBytes: limits.wasmBudgetBytes, maxPages: limits.wasmMaxPages }),
      );
      for (const script of scriptList()) {
        const compiled: ivm.Script & ivm.CachedDataResult = await isolate.compileScript(script.source, {
          filename: `dcp-emu:${script.name}`,
          ...(script.cache ? { cachedData: script.cache } : { produceCachedData: true }),
        });
        if (!script.cache && compiled.cachedData) script.cache = compiled.cachedData;
        await compiled.run(context, { timeout: limits.callTimeoutMs });
        compiled.release();
      }
      const entry = await context.global.get('__dcpEmuEntry', { reference: true });
      const dispatchRef = (await entry.get('dispatch', { reference: true })) as ivm.Reference<
        (json: string) => number
      >;
      const tickRef = (await entry.get('tick', { reference: true })) as ivm.Reference<() => number>;
      entry.release();
      await context.global.delete('__dcpEmuEntry');
      sandbox = new Sandbox(isolate, context, dispatchRef, tickRef, limits, hooks);
      for (const [kind, line] of early) sandbox.fromSandbox(kind, line);
      return sandbox;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  get closed(): boolean {
    return this.exited;
  }

  /** Hands one KVIN-marshalled supervisor message to the sandbox. */
  dispatch(message: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(message);
    return this.enqueue(() => this.dispatchRef.apply(undefined, [json], { timeout: this.callTimeout() }));
  }

  /**
   * Memory in use (V8 heap, external ArrayBuffer memory and charged WebAssembly memory), in bytes;
   * 0 once closed. Asking a
   * busy isolate would wait for it, so while a call runs this is the last measured value.
   */
  async heapBytes(): Promise<number> {
    if (this.exited || this.isolate.isDisposed) return 0;
    if (this.busy || this.measuring) return this.lastHeap + this.wasmBytes;
    this.measuring = true;
    try {
      const s = await this.isolate.getHeapStatistics();
      this.lastHeap = s.used_heap_size + s.externally_allocated_size;
    } catch {
      /* disposed meanwhile */
    } finally {
      this.measuring = false;
    }
    return this.exited ? 0 : this.lastHeap + this.wasmBytes;
  }

  /** Watchdog: ENOPROGRESS / ESLICETOOSLOW for a running slice. */
  check(now: number): void {
    if (this.exited || !this.sliceActive) return;
    if (now - this.lastProgressAt > this.limits.progressTimeoutMs) {
      this.kill(DcpErrorCode.ENOPROGRESS, `no progress() for ${now - this.lastProgressAt} ms`);
      return;
    }
    const cpuMs = this.sliceCpuMs();
    if (cpuMs > this.limits.sliceCpuLimitMs) {
      this.kill(DcpErrorCode.ESLICETOOSLOW, `slice used ${Math.round(cpuMs)} ms of CPU time`);
    }
  }

  /**
   * Ends the sandbox now: terminates whatever runs in the isolate, tells the supervisor why
   * (ring-3 noProgress / sandboxError while a slice runs), then a DIE: line.
   */
  kill(code: DcpErrorCode | null, message: string): void {
    if (this.exited || this.killing) return;
    this.killing = { code, message };
    if (this.sliceActive && code !== null) {
      const value =
        code === DcpErrorCode.ENOPROGRESS
          ? { request: 'noProgress', message }
          : { request: 'sandboxError', error: { name: 'DCPError', message, code } };
      const marshalled = kvinFor(this.peerKvin).marshal({ ringSource: 3, value });
      this.hooks.line('slice-end', `MSG:${JSON.stringify({ type: 'workerMessage', message: marshalled })}`);
    }
    this.sliceActive = false;
    this.hooks.line('die', dieLine(code ? `${code}: ${message}` : message));
    this.finish(this.killing);
  }

  private finish(exit: SandboxExit): void {
    if (this.exited) return;
    this.exited = true;
    this.clearWake();
    try {
      this.context.release();
      if (!this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      /* already gone */
    }
    this.hooks.exit(exit);
  }

  private sliceCpuMs(): number {
    try {
      return Number(this.isolate.cpuTime - this.sliceCpuStart) / 1e6;
    } catch {
      return 0;
    }
  }

  /**
   * Wall-clock limit of one call into the isolate. During a slice the CPU-time watchdog (check)
   * enforces ESLICETOOSLOW; isolated-vm's timeout counts wall time, which a loaded machine
   * stretches, so it is only a generous backstop there.
   */
  private callTimeout(): number {
    if (!this.sliceActive) return this.limits.callTimeoutMs;
    return 2 * this.limits.sliceCpuLimitMs + this.limits.callTimeoutMs;
  }

  private fromSandbox(kind: string, line: string): void {
    if (this.exited || this.killing) return;
    const safe = line.replace(/[\r\n]/g, ' ');
    switch (kind) {
      case 'slice-start':
        this.sliceActive = true;
        this.lastProgressAt = Date.now();
        try {
          this.sliceCpuStart = this.isolate.cpuTime;
        } catch {
          this.sliceCpuStart = 0n;
        }
        return;
      case 'progress':
        this.lastProgressAt = Date.now();
        this.hooks.line('progress', safe);
        return;
      case 'slice-end':
        this.sliceActive = false;
        this.hooks.line('slice-end', safe);
        return;
      case 'fatal':
        this.kill(DcpErrorCode.EUNCAUGHT, `the work function broke its sandbox: ${line}`);
        return;
      case 'wake':
        this.schedule(Number(line));
        return;
      case 'wasm':
        this.wasmBytes = Math.max(0, Number(line) || 0);
        return;
      case 'enomem':
        this.kill(DcpErrorCode.ENOMEM, line);
        return;
      case 'die':
        this.sliceActive = false;
        this.hooks.line('die', safe.startsWith('DIE:') ? safe : dieLine(safe));
        this.finish({ code: null, message: 'sandbox closed itself' });
        return;
      default:
        this.hooks.line('msg', safe);
    }
  }

  private enqueue(call: () => Promise<number>): Promise<void> {
    const run = async () => {
      if (this.exited) return;
      let next: unknown;
      this.busy = true;
      try {
        next = await call();
      } catch (e) {
        this.failed(e);
        return;
      } finally {
        this.busy = false;
      }
      this.schedule(next);
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  private failed(e: unknown): void {
    if (this.exited) return;
    if (this.killing) {
      this.finish(this.killing);
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (/memory limit/i.test(message) || this.isolate.isDisposed) {
      this.kill(DcpErrorCode.ENOMEM, `sandbox exceeded its ${this.limits.memoryLimitMb} MiB heap limit`);
    } else if (/timed out/i.test(message)) {
      this.kill(DcpErrorCode.ESLICETOOSLOW, `sandbox ran longer than allowed (${message})`);
    } else {
      this.kill(DcpErrorCode.ESANDBOX, `sandbox failure: ${message}`);
    }
  }

  private schedule(next: unknown): void {
    if (this.exited || typeof next !== 'number' || !Number.isFinite(next) || next < 0) return;
    const at = Date.now() + Math.min(next, 2_147_000_000);
    if (this.wake && at >= this.wakeAt) return;
    this.clearWake();
    this.wakeAt = at;
    const fire = () => {
      this.wake = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.enqueue(() => this.tickRef.apply(undefined, [], { timeout: this.callTimeout() }));
    };
    /* due now: next turn of the host loop (setTimeout would add at least 1 ms per timer hop) */
    this.wake = next <= 0 ? { immediate: setImmediate(fire) } : { timeout: setTimeout(fire, next) };
  }

  private clearWake(): void {
    if (this.wake?.immediate) clearImmediate(this.wake.immediate);
    if (this.wake?.timeout) clearTimeout(this.wake.timeout);
    this.wake = undefined;
  }

  /** Orderly close (die request or peer gone): no notice, just dispose. */
  close(reason: string): void {
    this.finish({ code: null, message: reason });
  }
}
