/** The sandbox's wire types (dcp-worker-protocol.md §5): what `LineSandbox` speaks and its host answers. */
/** The job as the evaluator's `assign` wants it (dcp-worker-protocol.md §5.5). */
export interface AssignJob {
  id: string;
  arguments: unknown[];
  dependencies: string[];
  modulePath: string[];
  requirePath: string[];
  public: Record<string, unknown>;
  workFunction: string;
  useStrict: boolean;
  worktime: { name: string; version: string };
}

/** CPU/wall time the sandbox measured for one slice (ms). */
export interface Measurement {
  total: number;
  CPU: number;
  webGL: number;
  webGPU: number;
}

/** How a slice ended inside a sandbox. */
export type SliceOutcome =
  | { kind: 'complete'; result: unknown; measurement: Measurement; progressed: boolean }
  | { kind: 'workError'; error: Record<string, unknown>; measurement: Measurement }
  | { kind: 'workReject'; reason: unknown; retries: number }
  | { kind: 'failed'; code: string; message: string };

export interface FetchRequestData {
  url: string;
  method?: string;
  headersEntries?: [string, string][];
  bodyBuffer?: Uint8Array | null;
}

export interface FetchResponseData {
  url: string;
  status: number;
  statusText: string;
  headersEntries: [string, string][];
  bodyBuffer: Uint8Array | null;
}

/** What the sandbox asks its supervisor for (ring-2 requests). */
export interface SandboxHost {
  /** `dependency`: module ids → `{ <package>: { <module>: source } }` */
  modules(ids: string[]): Promise<Record<string, Record<string, string>>>;
  /** `fetchRequest`: a work function's proxied fetch (throws EPERM_ORIGIN when not allowed) */
  fetch(request: FetchRequestData): Promise<FetchResponseData>;
}

export interface SandboxTimeouts {
  /** describe / applyRequirements / assign / resetState (DCP: 2×10 s) */
  generalMs: number;
  /** no `progress()` for this long while a slice runs → ENOPROGRESS (DCP: 5 min) */
  progressMs: number;
  /** connecting to the evaluator */
  connectMs: number;
}

export const defaultSandboxTimeouts: SandboxTimeouts = {
  generalMs: 20_000,
  progressMs: 300_000,
  connectMs: 10_000,
};

/**
 * Where a sandbox's protocol lines travel (§5.2): a TCP connection to an evaluator in Node, a Web
 * Worker in a browser. Lines are written without their newline; `onLine` receives whole lines
 * (`MSG:…`, `DIE:…`) and `onClose` fires once when the other side is gone.
 */
export interface LineChannel {
  write(line: string): void;
  /** ends the channel at once (no further lines either way; `onClose` need not fire for it) */
  destroy(): void;
  onLine(listener: (line: string) => void): void;
  onClose(listener: (reason: string) => void): void;
}
