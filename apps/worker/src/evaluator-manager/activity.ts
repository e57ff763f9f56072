import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** Port: the system's load averages (1, 5, 15 minutes). */
export type LoadSource = () => readonly [number, number, number];
/** Port: the terminal in use within the last `idleTimeoutMs`, if any. */
export type SessionSource = (idleTimeoutMs: number, now: number) => string | undefined;

/** The kernel's load averages (`os.loadavg()`). */
export const systemLoad: LoadSource = () => {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
};

/**
 * Load averages from a file in `/proc/loadavg`'s format (`0.52 0.58 0.59 1/467 12345`): the default
 * source reads the kernel's; a test or a container points it at a file of its own.
 */
export function fileLoad(path: string): LoadSource {
  return () => {
    const [a, b, c] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (![a, b, c].every((x) => Number.isFinite(x))) throw new Error(`${path}: not a load average line`);
    return [a as number, b as number, c as number];
  };
}

function ownTerminal(): string | undefined {
  try {
    return realpathSync('/dev/stdout');
  } catch {
    return undefined;
  }
}

/**
 * dcp-evaluator-manager's session monitor: a terminal under `dir` (`/dev/pts`) read or written within
 * the idle timeout means someone is at the machine (ssh, a console). Our own terminal does not count;
 * nor does `ptmx`. Any other entry counts, so a test can stand in files for terminals.
 */
export function ptsSessions(dir = '/dev/pts', own: string | undefined = ownTerminal()): SessionSource {
  return (idleTimeoutMs, now) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return undefined;
    }
    for (const name of entries) {
      if (name === 'ptmx') continue;
      const path = join(dir, name);
      if (path === own) continue;
      try {
        const st = statSync(path);
        if (!st.isCharacterDevice() && !st.isFile()) continue;
        if (Math.max(st.atimeMs, st.mtimeMs) > now - idleTimeoutMs) return path;
      } catch {
        // gone meanwhile
      }
    }
    return undefined;
  };
}

export type LoadavgType = 'short' | 'medium' | 'long';
export type Monitor = 'session' | 'load' | 'signal';

export interface ActivitySettings {
  /** above this load average the machine is busy; undefined: load is not watched */
  maxLoad: number | undefined;
  loadavgType: LoadavgType;
  idleTimeoutMs: number;
  /** monitors switched off (`-a` switches off all) */
  disabled: ReadonlySet<Monitor>;
}

export interface ActivityPorts {
  load: LoadSource;
  sessions: SessionSource;
  now: () => number;
}

/**
 * Decides whether this machine is free for DCP work, as dcp-evaluator-manager: a terminal in use,
 * the load average above `maxLoad`, or the toggle signal (SIGPWR) make it busy. `check()` answers
 * the reasons ("" when free).
 */
export class ActivityMonitor {
  #signalled = false;

  constructor(
    readonly settings: ActivitySettings,
    readonly ports: ActivityPorts,
  ) {}

  /** The toggle signal: busy until the next one. */
  toggle(): boolean {
    this.#signalled = !this.#signalled;
    return this.#signalled;
  }

  check(): string {
    const reasons: string[] = [];
    const on = (m: Monitor) => !this.settings.disabled.has(m);
    if (on('signal') && this.#signalled) reasons.push('paused by signal');
    if (on('session')) {
      const tty = this.ports.sessions(this.settings.idleTimeoutMs, this.ports.now());
      if (tty) reasons.push(`terminal ${tty} in use`);
    }
    if (on('load') && this.settings.maxLoad !== undefined) {
      const avg = this.ports.load();
      const i = { short: 0, medium: 1, long: 2 }[this.settings.loadavgType];
      const value = avg[i] ?? 0;
      if (value > this.settings.maxLoad)
        reasons.push(`${this.settings.loadavgType} load ${value.toFixed(2)} > ${this.settings.maxLoad}`);
    }
    return reasons.join(', ');
  }
}
