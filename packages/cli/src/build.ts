import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './stack';

function run(label: string, command: string, args: string[], cwd = ROOT): void {
  const started = Date.now();
  process.stderr.write(`dcp-emu: ${label}…\n`);
  const r = spawnSync(command, args, {
    cwd,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status ?? r.signal})`);
  process.stderr.write(`dcp-emu: ${label}: done in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}

/**
 * Builds what is not built yet: the Prisma clients, the TypeScript workspaces (tsc -b is incremental,
 * so this is a quick check when nothing changed) and the portal's production build.
 */
export function ensureBuilt(opts: { portal: boolean }): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!existsSync(join(ROOT, 'packages/db/src/generated/sqlite/client.ts'))) {
    run('generating database clients', npm, ['run', 'generate']);
  }
  run('compiling TypeScript (tsc -b)', process.execPath, [
    require.resolve('typescript/bin/tsc', { paths: [ROOT] }),
    '-b',
  ]);
  if (opts.portal && !existsSync(join(ROOT, 'apps/portal/.next/BUILD_ID'))) {
    run('building the portal (next build)', npm, ['run', 'build', '-w', '@dcp-emu/portal']);
  }
}
