import { runInContext, createContext } from 'node:vm';
import type { WorkerLike } from './web-worker-channel';

/**
 * Tests only: a Web Worker look-alike that runs a worker script in a fresh `vm` context of this
 * process, with the members a dedicated worker's global scope has that the sandbox host uses
 * (`self`, `postMessage`, `addEventListener('message')`, `close`, timers) plus the web built-ins
 * browsers have and bare V8 lacks. Messages are delivered asynchronously, as postMessage does.
 */
export class VmWorker implements WorkerLike {
  readonly #messageListeners: Array<(event: { data: unknown }) => void> = [];
  readonly #errorListeners: Array<(event: { message?: string }) => void> = [];
  readonly #inside: Array<(event: { data: unknown }) => void> = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  closed = false;
  /** lines the worker posted, in order */
  readonly posted: string[] = [];

  constructor(source: string) {
    const context = createContext({});
    const scope = {
      postMessage: (data: unknown) => {
        if (this.closed) return;
        if (typeof data === 'string') this.posted.push(data);
        setImmediate(() => {
          for (const l of this.#messageListeners) l({ data });
        });
      },
      addEventListener: (type: string, listener: (event: { data: unknown }) => void) => {
        if (type === 'message') this.#inside.push(listener);
      },
      close: () => this.terminate(),
      setTimeout: (fn: () => void, ms?: number) => {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          if (!this.closed) fn();
        }, ms);
        this.#timers.add(t);
        return t;
      },
      clearTimeout: (t: ReturnType<typeof setTimeout>) => {
        clearTimeout(t);
        this.#timers.delete(t);
      },
      URL,
      URLSearchParams,
      TextEncoder,
      TextDecoder,
      atob,
      btoa,
    };
    Object.assign(context, scope);
    runInContext('globalThis.self = globalThis;', context);
    setImmediate(() => {
      try {
        runInContext(source, context, { filename: 'sandbox.js' });
      } catch (e) {
        for (const l of this.#errorListeners) l({ message: (e as Error).message });
      }
    });
  }

  postMessage(message: string): void {
    if (this.closed) return;
    setImmediate(() => {
      if (this.closed) return;
      for (const l of this.#inside) l({ data: message });
    });
  }

  terminate(): void {
    this.closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
  addEventListener(
    type: 'message' | 'error',
    listener: ((event: { data: unknown }) => void) | ((event: { message?: string }) => void),
  ): void {
    if (type === 'message') this.#messageListeners.push(listener as (event: { data: unknown }) => void);
    else this.#errorListeners.push(listener as (event: { message?: string }) => void);
  }
}
