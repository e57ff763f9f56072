import { createContext, runInContext } from 'node:vm';
import type { LineChannel } from '@dcp-emu/worker-core';
import { bootScripts } from '../evaluator/sandbox';
import { dieLine, parseLine } from '../evaluator/line-protocol';

/** What the prelude leaves on the global for its host (see sandbox-prelude.js). */
interface PreludeEntry {
  dispatch(json: string): number;
  tick(): number;
}

/**
 * The evaluator's sandbox scripts (polyfills, KVIN, the prelude — the same files, in the same
 * order as `Sandbox.create`) in a plain Node `vm` context of this process, as a line channel. It
 * exists for `dcp-emu replay --inspect`: scripts of a `vm` context are scripts of this process,
 * so Node's inspector (`node --inspect-brk`, chrome://inspect, VS Code) lists the work function and
 * stops at its breakpoints — an isolated-vm isolate is invisible to it. Not a security boundary
 * and no heap, CPU or WebAssembly limits: it runs code the user asked to debug, nothing else.
 */
export function vmChannel(): LineChannel {
  const lineListeners: ((line: string) => void)[] = [];
  const closeListeners: ((reason: string) => void)[] = [];
  let closed = false;
  let wake: NodeJS.Timeout | undefined;
  const inbox: string[] = [];
  let draining = false;

  const emitLine = (line: string) => {
    for (const l of lineListeners) l(line);
  };
  const close = (reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(wake);
    for (const l of closeListeners) l(reason);
  };
  const fromSandbox = (kind: unknown, line: unknown) => {
    if (closed || typeof kind !== 'string' || typeof line !== 'string') return;
    switch (kind) {
      case 'slice-start':
      case 'wasm':
        return;
      case 'wake':
        schedule(Number(line));
        return;
      case 'fatal':
      case 'enomem':
        emitLine(dieLine(`${kind}: ${line}`));
        close(line);
        return;
      case 'die':
        emitLine(line.startsWith('DIE:') ? line : dieLine(line));
        close('sandbox closed itself');
        return;
      default:
        emitLine(line.replace(/[\r\n]/g, ' '));
    }
  };

  const context = createContext({});
  const global = context as Record<string, unknown>;
  global.__dcpEmuSend = fromSandbox;
  global.__dcpEmuLimits = JSON.stringify({});
  for (const script of bootScripts())
    runInContext(script.source, context, { filename: `dcp-emu:${script.name}` });
  const entry = global.__dcpEmuEntry as PreludeEntry;
  delete global.__dcpEmuEntry;

  function schedule(next: unknown): void {
    if (closed || typeof next !== 'number' || !Number.isFinite(next) || next < 0) return;
    clearTimeout(wake);
    wake = setTimeout(() => schedule(entry.tick()), Math.min(next, 2_147_000_000));
  }

  const drain = () => {
    draining = false;
    for (let line = inbox.shift(); line !== undefined && !closed; line = inbox.shift()) {
      const parsed = parseLine(line);
      if (!parsed.ok) continue;
      const env = parsed.envelope;
      if (env.type === 'die') {
        close('die requested');
        return;
      }
      if (env.type === 'workerMessage') schedule(entry.dispatch(JSON.stringify(env.message)));
    }
  };

  return {
    write(line) {
      if (closed) return;
      inbox.push(line);
      if (!draining) {
        draining = true;
        setImmediate(drain);
      }
    },
    destroy() {
      close('closed by the supervisor');
    },
    onLine(listener) {
      lineListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  };
}
