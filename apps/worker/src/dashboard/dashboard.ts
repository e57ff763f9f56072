import type { SliceView, Supervisor } from '../supervisor';

/** What the dashboard shows. */
export interface DashboardModel {
  title: string;
  scheduler: string;
  paymentAddress: string;
  maxSandboxes: number;
  openSandboxes: number;
  slices: SliceView[];
  earned: number;
  completed: number;
  log: string[];
  now: number;
}

const ESC = '\x1b[';
const bold = (s: string) => `${ESC}1m${s}${ESC}22m`;
const dim = (s: string) => `${ESC}2m${s}${ESC}22m`;
const green = (s: string) => `${ESC}32m${s}${ESC}39m`;

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text.padEnd(width);
}

function bar(progress: number | undefined, width: number): string {
  if (progress === undefined) return `[${'?'.repeat(width)}]`;
  const p = Math.max(0, Math.min(100, progress));
  const full = Math.round((p / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/**
 * The dashboard as text (ANSI colours, no cursor moves): header, sandboxes, current slices with
 * progress, DCC earned, the latest log lines — fitted to `cols` × `rows`.
 */
export function renderDashboard(m: DashboardModel, cols = 80, rows = 24): string {
  const w = Math.max(40, cols);
  const out: string[] = [];
  out.push(bold(fit(`${m.title} — ${m.scheduler}`, w)));
  out.push(fit(`Payment address: ${m.paymentAddress}`, w));
  out.push(
    fit(
      `DCC earned: ${m.earned.toFixed(6)}   slices completed: ${m.completed}   sandboxes: ${m.openSandboxes} open, ${m.slices.filter((s) => s.state === 'working').length}/${m.maxSandboxes} working`,
      w,
    ),
  );
  out.push(dim('─'.repeat(w)));
  out.push(bold(fit('Sandbox  Job                        Slice   State       Progress', w)));
  const sliceRows = Math.max(1, Math.min(m.maxSandboxes + 4, rows - 12));
  const shown = m.slices.slice(0, sliceRows);
  for (const s of shown) {
    const secs = s.startedAt ? ` ${((m.now - s.startedAt) / 1000).toFixed(1)}s` : '';
    const line = `${String(s.sandboxId ?? '-').padEnd(8)} ${fit(s.jobName, 26)} ${String(s.sliceNumber).padEnd(7)} ${s.state.padEnd(11)} ${bar(s.progress, 20)}${secs}`;
    out.push(s.state === 'working' ? green(fit(line, w)) : fit(line, w));
  }
  if (m.slices.length > shown.length) out.push(dim(fit(`… and ${m.slices.length - shown.length} more`, w)));
  if (m.slices.length === 0) out.push(dim(fit('(no slices — waiting for work)', w)));
  out.push(dim('─'.repeat(w)));
  const logRows = Math.max(1, rows - out.length - 1);
  for (const l of m.log.slice(-logRows)) out.push(fit(l, w));
  return out.join('\n');
}

/** A full-screen terminal dashboard redrawn a few times a second (plain ANSI, no dependency). */
export class Dashboard {
  readonly #log: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly stream: NodeJS.WriteStream,
    private readonly info: { title: string; scheduler: string; paymentAddress: string },
    private readonly intervalMs = 250,
  ) {
    supervisor.on('log', (level, message) => this.log(`${level === 'info' ? '.' : '!'} ${message}`));
    supervisor.on('result', (s, r) =>
      this.log(`* ${s.jobName} slice ${s.sliceNumber} completed, +${r.payment.toFixed(6)} DCC`),
    );
    supervisor.on('returned', (r) =>
      this.log(`! returned ${r.sliceNumbers.join(',')} of ${r.jobId}: ${r.reason}`),
    );
  }

  log(line: string): void {
    const t = new Date().toISOString().slice(11, 19);
    this.#log.push(`${t} ${line}`);
    if (this.#log.length > 200) this.#log.splice(0, this.#log.length - 200);
  }

  model(): DashboardModel {
    return {
      ...this.info,
      maxSandboxes: this.supervisor.options.maxSandboxes,
      openSandboxes: this.supervisor.openSandboxes,
      slices: this.supervisor.slices(),
      earned: this.supervisor.earned,
      completed: this.supervisor.slicesCompleted,
      log: this.#log,
      now: Date.now(),
    };
  }

  start(): void {
    this.stream.write(`${ESC}?1049h${ESC}?25l`);
    const draw = () =>
      this.stream.write(
        `${ESC}H${ESC}2J${renderDashboard(this.model(), this.stream.columns ?? 80, this.stream.rows ?? 24)}`,
      );
    draw();
    this.#timer = setInterval(draw, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.stream.write(`${ESC}?25h${ESC}?1049l`);
  }
}
