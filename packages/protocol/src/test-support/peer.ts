import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Identity, writeClientKeystores } from '../node';

const ROOT = resolve(__dirname, '../../../..');

/** dcp-client package directories: 5.6.1 at the top, 4.4.x under dcp-worker. */
export const DCP_CLIENT = {
  5: join(ROOT, 'node_modules/dcp-client'),
  4: join(ROOT, 'node_modules/dcp-worker/node_modules/dcp-client'),
} as const;

/** initiator: dcp/protocol Connection; target: dcp/protocol Target; config: init() + report */
export type PeerMode = 'initiator' | 'target' | 'config';

export interface PeerMessage {
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: { message: string; code?: string };
  event?: string;
  [k: string]: unknown;
}

function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
  return { uid, gid };
}

/**
 * A dcp-client in a child process (as `nobody` when we are root, own temp HOME with empty-passphrase
 * id.keystore/default.keystore written by our keystore helpers), driven over JSON lines.
 */
export class DcpClientPeer {
  readonly messages: PeerMessage[] = [];
  readonly home: string;
  readonly identity: Identity;
  /** the bank account key in default.keystore (undefined when reusing a HOME) */
  readonly account: Identity | undefined;
  readonly stderr: string[] = [];
  #child: ChildProcess;
  #seq = 0;
  #waiters: (() => void)[] = [];

  private constructor(
    readonly generation: 4 | 5,
    mode: PeerMode,
    location: string,
    env: Record<string, string>,
    reuse?: { home: string; identity: Identity },
  ) {
    this.home = reuse?.home ?? mkdtempSync(join(tmpdir(), 'dcp-peer-'));
    const dcpDir = join(this.home, '.dcp');
    const keys = reuse ? undefined : writeClientKeystores(dcpDir);
    this.identity = reuse?.identity ?? keys!.identity;
    this.account = keys?.account;
    const user = unprivileged();
    if (user) {
      for (const p of [this.home, dcpDir, ...readdirSync(dcpDir).map((f) => join(dcpDir, f))])
        chownSync(p, user.uid, user.gid);
    }
    this.#child = spawn(process.execPath, [join(__dirname, 'dcp-client-peer.cjs')], {
      cwd: this.home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.home,
        DCP_CLIENT_DIR: DCP_CLIENT[generation],
        PEER_MODE: mode,
        PEER_LOCATION: location,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
    let buf = '';
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.messages.push(JSON.parse(line) as PeerMessage);
        } catch {
          this.stderr.push(`stdout: ${line}`);
        }
      }
      this.#wake();
    });
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (chunk: string) => this.stderr.push(chunk));
    this.#child.on('exit', (code) => {
      this.messages.push({ event: 'exit', code });
      this.#wake();
    });
  }

  static async start(
    generation: 4 | 5,
    mode: PeerMode,
    location: string,
    env: Record<string, string> = {},
    reuse?: DcpClientPeer,
  ): Promise<DcpClientPeer> {
    const peer = new DcpClientPeer(
      generation,
      mode,
      location,
      env,
      reuse ? { home: reuse.home, identity: reuse.identity } : undefined,
    );
    if (mode === 'config') return peer;
    await peer.waitFor((m) => m.event === 'init', 30_000);
    if (mode === 'target') await peer.waitFor((m) => m.event === 'listening', 30_000);
    return peer;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Wait (bounded) for a message matching `predicate`, from `from` on. */
  async waitFor(predicate: (m: PeerMessage) => boolean, ms = 20_000, from = 0): Promise<PeerMessage> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      const fatal = this.messages.find((m) => m.event === 'fatal' || m.event === 'exit');
      if (fatal) throw new Error(`peer ended: ${JSON.stringify(fatal)}\n${this.stderr.join('')}`);
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(
          `peer timed out; messages: ${JSON.stringify(this.messages).slice(-3000)}\n${this.stderr.join('').slice(-3000)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Send a command and wait for its reply; resolves with the reply message. */
  async command(cmd: Record<string, unknown>, ms = 20_000): Promise<PeerMessage> {
    const id = ++this.#seq;
    this.#child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return this.waitFor((m) => m.id === id, ms);
  }

  /** Like command() but returns the result, throwing when the peer reported an error. */
  async call<T = unknown>(cmd: Record<string, unknown>, ms?: number): Promise<T> {
    const reply = await this.command(cmd, ms);
    if (!reply.ok) throw Object.assign(new Error(reply.error?.message), { code: reply.error?.code });
    return reply.result as T;
  }

  get mark(): number {
    return this.messages.length;
  }

  /** Kill the process (keeps HOME unless `cleanup`). */
  async stop(cleanup = true): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
    }
    if (cleanup) rmSync(this.home, { recursive: true, force: true });
  }
}

/** A free loopback port (for peers that open their own listener). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}
