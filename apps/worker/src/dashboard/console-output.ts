import type { Supervisor } from '../supervisor';

/** Where plain output goes (process.stdout / stderr in the CLI; arrays in tests). */
export interface Lines {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Plain console output for services (systemd, docker): one line per event, in the spirit of
 * dcp-worker's `-o console` (` . Sandbox N: Slice Started`, ` * … Slice Completed`, ` . Payment: …`).
 */
export function attachConsole(
  supervisor: Supervisor,
  lines: Lines,
  now: () => number = Date.now,
): () => void {
  const started = new Map<string, number>();
  const key = (jobId: string, slice: number) => `${jobId}/${slice}`;
  const handlers = {
    fetch: (info: { slices: number; jobs: number }) => {
      if (info.slices > 0) lines.out(` . Fetched ${info.slices} slice(s) of ${info.jobs} job(s)`);
    },
    sliceStart: (s: {
      jobId: string;
      jobName: string;
      sliceNumber: number;
      sandboxId: number | undefined;
    }) => {
      started.set(key(s.jobId, s.sliceNumber), now());
      lines.out(` . Sandbox ${s.sandboxId}: Slice Started: ${s.jobName} slice ${s.sliceNumber}`);
    },
    result: (
      s: { jobId: string; jobName: string; sliceNumber: number; sandboxId: number | undefined },
      info: { payment: number },
    ) => {
      const t0 = started.get(key(s.jobId, s.sliceNumber));
      started.delete(key(s.jobId, s.sliceNumber));
      const dt = t0 === undefined ? '' : ` dt ${now() - t0}ms`;
      lines.out(` * Slice Completed: ${s.jobName} slice ${s.sliceNumber}${dt}`);
      lines.out(` . Payment: ${info.payment.toFixed(6)} DCC (total ${supervisor.earned.toFixed(6)} DCC)`);
    },
    returned: (info: { jobId: string; sliceNumbers: number[]; reason: string }) => {
      lines.out(` ! Returned slice(s) ${info.sliceNumbers.join(',')} of ${info.jobId}: ${info.reason}`);
    },
    log: (level: 'info' | 'warn' | 'error', message: string) => {
      (level === 'info' ? lines.out : lines.err)(`${level === 'info' ? ' .' : ' !'} ${message}`);
    },
    stopped: () => lines.out(' . Worker stopped'),
  };
  supervisor.on('fetch', handlers.fetch);
  supervisor.on('sliceStart', handlers.sliceStart);
  supervisor.on('result', handlers.result);
  supervisor.on('returned', handlers.returned);
  supervisor.on('log', handlers.log);
  supervisor.on('stopped', handlers.stopped);
  return () => {
    supervisor.off('fetch', handlers.fetch);
    supervisor.off('sliceStart', handlers.sliceStart);
    supervisor.off('result', handlers.result);
    supervisor.off('returned', handlers.returned);
    supervisor.off('log', handlers.log);
    supervisor.off('stopped', handlers.stopped);
  };
}
