import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Who listens on a TCP port: its pid and command line, when /proc lets us see them. */
export interface PortHolder {
  port: number;
  /** undefined: the socket is there but its process is not ours to inspect (or not Linux) */
  pid?: number;
  command?: string;
}

/** Inodes of listening TCP sockets (IPv4 and IPv6) bound to `port`, from /proc/net/tcp{,6}. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== '0A') continue; // 0A = LISTEN
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (Number.parseInt(hexPort, 16) === port && cols[9] && cols[9] !== '0') inodes.add(cols[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on `port` (Linux: /proc/net/tcp + /proc/<pid>/fd), or undefined when
 * nothing listens there. Used to say "port 7434 is held by pid 1234 (…)" instead of retrying.
 */
export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { port };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      let command: string | undefined;
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        command = undefined;
      }
      return { port, pid: Number(pid), ...(command ? { command } : {}) };
    }
  }
  return { port };
}

/** "port 7434 is held by pid 1234 (node …)" */
export function describePortHolder(h: PortHolder): string {
  if (h.pid === undefined) return `port ${h.port} is held by another process (not ours to inspect)`;
  const cmd = h.command ? ` (${h.command.length > 120 ? `${h.command.slice(0, 117)}…` : h.command})` : '';
  return `port ${h.port} is held by pid ${h.pid}${cmd}`;
}
