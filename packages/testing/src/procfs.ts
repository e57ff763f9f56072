/**
 * Linux /proc readings for benches and load tests: CPU time (utime + stime, plus what reaped children
 * used) and peak resident set (VmHWM) of a process and its live descendants. Everything here reads
 * /proc only; a process that is gone reads as undefined, never as an error.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** own user + system CPU, ms */
  cpuMs: number;
  /** user + system CPU of waited-for (reaped) children, ms */
  childrenCpuMs: number;
}

let ticks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseStat(text: string, hz = clockTicks()): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // fields after the command name start at field 3 (state): ppid is 4, utime 14, stime 15, cutime 16, cstime 17
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return {
    pid,
    ppid: n(4),
    cpuMs: ((n(14) + n(15)) * 1000) / hz,
    childrenCpuMs: ((n(16) + n(17)) * 1000) / hz,
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The command line of a process (arguments joined by spaces), or undefined when it is gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** Every live process: pid → parent pid. */
export function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) table.set(s.pid, s.ppid);
  }
  return table;
}

/** The live descendants of `pid` (children, grandchildren, …), not `pid` itself. */
export function descendants(pid: number, table = processTable()): number[] {
  const kids = new Map<number, number[]>();
  for (const [p, pp] of table) kids.set(pp, [...(kids.get(pp) ?? []), p]);
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * CPU ms of a process tree: each live member's own time plus its reaped children's. With
 * `exclude`, those pids and their subtrees are left out (to account a child to another service).
 */
export function treeCpuMs(pid: number, exclude: number[] = [], table = processTable()): number | undefined {
  const root = readStat(pid);
  if (!root) return undefined;
  const skip = new Set(exclude.flatMap((e) => [e, ...descendants(e, table)]));
  let total = root.cpuMs + root.childrenCpuMs;
  for (const d of descendants(pid, table)) {
    if (skip.has(d)) continue;
    const s = readStat(d);
    if (s) total += s.cpuMs + s.childrenCpuMs;
  }
  return total;
}

/** A field of /proc/<pid>/status in kB (VmHWM = peak RSS, VmRSS = current RSS), or undefined. */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS (VmHWM, kB) of a process: the largest resident set since it started. */
export function peakRssKb(pid: number): number | undefined {
  return statusKb(pid, 'VmHWM');
}
