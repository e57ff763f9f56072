import { type LineChannel, LineSandbox, type SandboxFactory } from '@dcp-emu/worker-core';

/** The part of a Web Worker a channel uses (so specs can put another line peer behind it). */
export interface WorkerLike {
  postMessage(message: string): void;
  terminate(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
}

/**
 * A Web Worker as a line channel: each message either way is one line of DCP's evaluator line
 * protocol (no newline framing needed). A worker that fails to load or throws out of its host
 * closes the channel; `destroy()` terminates the worker.
 */
export function workerChannel(worker: WorkerLike): LineChannel {
  const lineListeners: Array<(line: string) => void> = [];
  const closeListeners: Array<(reason: string) => void> = [];
  let open = true;
  const close = (reason: string) => {
    if (!open) return;
    open = false;
    worker.terminate();
    for (const l of closeListeners) l(reason);
  };
  worker.addEventListener('message', (event) => {
    if (!open || typeof event.data !== 'string') return;
    for (const l of lineListeners) l(event.data);
  });
  worker.addEventListener('error', (event) => close(`sandbox worker failed: ${event.message ?? 'error'}`));
  return {
    write: (line) => {
      if (open) worker.postMessage(line);
    },
    destroy: () => {
      if (!open) return;
      open = false;
      worker.terminate();
    },
    onLine: (listener) => {
      lineListeners.push(listener);
    },
    onClose: (listener) => {
      closeListeners.push(listener);
    },
  };
}

/**
 * Sandboxes as Web Workers started from `scriptUrl` (a `data:` URL of /worker/sandbox.js, so each
 * runs in an opaque origin). `createWorker` is the seam the specs replace.
 */
export function webWorkerSandboxes(
  scriptUrl: string,
  createWorker: (url: string) => WorkerLike = (url) => new Worker(url, { name: 'dcp-sandbox' }),
): SandboxFactory {
  return (host, timeouts) => LineSandbox.start(workerChannel(createWorker(scriptUrl)), host, timeouts);
}

/** `data:` URL of a script (opaque origin for the workers started from it). */
export function scriptDataUrl(source: string): string {
  return `data:text/javascript;charset=utf-8,${encodeURIComponent(source)}`;
}
