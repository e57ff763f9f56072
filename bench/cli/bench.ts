/**
 * CLI figures (printed, never asserted): time from `dcp-emu up` to ready (fresh data dir: start,
 * fund the dev accounts, take the @seed snapshot; then warm, 3× on the same data dir), and `reset` time
 * (the command's own figure and the wall time of the whole `dcp-emu reset` process).
 *
 * Needs a build (`npm run build:ts`). Run from the repository root:
 *   npx tsx bench/cli/bench.ts [resets=10] [--portal]
 * or `npm run bench:cli -w @dcp-emu/cli`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBase } from '@dcp-emu/testing';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'packages/cli/bin/dcp-emu.js');
const resets = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10);
const portal = process.argv.includes('--portal');

/** Starts `up` and resolves with the ms until it printed its ready banner. */
async function upUntilReady(dataDir: string, base: number): Promise<{ child: ChildProcess; ms: number }> {
  const started = performance.now();
  const args = [CLI, 'up', '--no-build', '--data-dir', dataDir, '--port-base', String(base)];
  if (!portal) args.push('--no-portal');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`not ready in 180 s:\n${out}\n${err}`)), 180_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('run a program:')) {
        clearTimeout(timer);
        res();
      }
    });
    child.once('exit', (code) => rej(new Error(`up exited ${code}:\n${out}\n${err}`)));
  });
  return { child, ms: performance.now() - started };
}

async function stop(child: ChildProcess): Promise<number> {
  const started = performance.now();
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGINT');
  await exited;
  return performance.now() - started;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return `median ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, min ${s[0]?.toFixed(0)} ms`;
};

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcp-emu-cli-bench-'));
  try {
    const base = await freePortBase();
    const fresh = await upUntilReady(dataDir, base);
    console.log(`up → ready, fresh data dir (start, fund 10 accounts, @seed): ${fresh.ms.toFixed(0)} ms`);
    const inner: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < resets; i++) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'reset', '--data-dir', dataDir], { encoding: 'utf8' });
      wall.push(performance.now() - t);
      const m = /in (\d+) ms/.exec(r.stdout);
      if (r.status !== 0 || !m) throw new Error(`reset failed: ${r.stdout}${r.stderr}`);
      inner.push(Number(m[1]));
    }
    console.log(`reset (${resets}×), the command's figure: ${stats(inner)}`);
    console.log(`reset (${resets}×), whole dcp-emu process:  ${stats(wall)}`);
    console.log(`Ctrl-C → all stopped: ${(await stop(fresh.child)).toFixed(0)} ms`);
    // warm: the data dir exists (databases migrated, accounts funded, @seed taken); services start in parallel
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) {
      const again = await upUntilReady(dataDir, base);
      warm.push(again.ms);
      await stop(again.child);
    }
    console.log(`warm up → ready (existing data dir, 3×): ${warm.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
