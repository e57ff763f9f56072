import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Peers (dcp-worker, dcp-client programs) run as the unprivileged `nobody` when the tests run as root,
 * and read the checkout: dcp-worker's bin, dcp-client and the test scripts. CI runners often clone
 * into a private directory (mode 0700 somewhere above the checkout), where `nobody` cannot even
 * traverse to it (`Cannot find module …/node_modules/dcp-worker/bin/dcp-worker`).
 *
 * What we do: give `nobody` traverse (`x`) on exactly the directories above (and of) the checkout
 * that lack it for others, with a POSIX ACL entry `u:nobody:x` (setfacl; `.ci/run` installs `acl`).
 * Nothing becomes listable or readable to anyone else, and modes are untouched. Without setfacl, or
 * when the checkout's files themselves are not readable by others, we fail early with one message
 * saying what to do.
 */

/** Side effects, injectable for the spec. */
export interface PeerAccessPorts {
  /** can the user read `file` (as that user)? */
  canRead(file: string, ids: { uid: number; gid: number }): boolean;
  /** permission bits of a directory */
  mode(dir: string): number;
  /** is setfacl installed? */
  hasSetfacl(): boolean;
  setfacl(uid: number, dir: string): void;
  say(line: string): void;
}

export const nodePeerAccessPorts: PeerAccessPorts = {
  canRead: (file, ids) =>
    spawnSync('test', ['-r', file], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' }).status === 0,
  mode: (dir) => statSync(dir).mode & 0o7777,
  hasSetfacl: () => spawnSync('setfacl', ['--version'], { stdio: 'ignore' }).status === 0,
  setfacl: (uid, dir) => {
    execFileSync('setfacl', ['-m', `u:${uid}:x`, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  },
  say: (line) => process.stderr.write(`${line}\n`),
};

/** The directories from `/` down to `dir`, `dir` included. */
export function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) return out;
  }
}

export class PeerAccessError extends Error {}

/**
 * Make `root` (the checkout) reachable for the peer user: returns the directories given traverse,
 * throws PeerAccessError with what to do when that is not possible.
 */
export function ensurePeerAccess(
  root: string,
  ids: { uid: number; gid: number },
  probe = join(root, 'node_modules/dcp-worker/bin/dcp-worker'),
  ports: PeerAccessPorts = nodePeerAccessPorts,
): string[] {
  if (ports.canRead(probe, ids)) return [];
  const closed = ancestors(root).filter((d) => (ports.mode(d) & 0o001) === 0);
  const who = `the peer user (uid ${ids.uid}, nobody: dcp-worker and dcp-client's evaluator refuse root)`;
  if (!closed.length)
    throw new PeerAccessError(
      `${who} cannot read ${probe}: the checkout's files must be readable by others (clone and npm ci with umask 022, or chmod -R o+rX ${root})`,
    );
  if (!ports.hasSetfacl())
    throw new PeerAccessError(
      `${who} cannot reach the checkout ${root}: ${closed.join(', ')} ${closed.length === 1 ? 'is' : 'are'} private (no x for others). ` +
        `Install setfacl (apt-get install acl) so the tests grant nobody traverse only, or run: setfacl -m u:${ids.uid}:x ${closed.join(' ')} ` +
        `(or chmod o+x on them, or run the tests as a non-root user)`,
    );
  for (const d of closed) ports.setfacl(ids.uid, d);
  if (!ports.canRead(probe, ids))
    throw new PeerAccessError(
      `${who} still cannot read ${probe} after setfacl -m u:${ids.uid}:x on ${closed.join(', ')} (a file system without ACLs?): chmod o+x them or run the tests as a non-root user`,
    );
  ports.say(`testing: gave the peer user traverse (ACL u:${ids.uid}:x) on ${closed.join(', ')}`);
  return closed;
}
