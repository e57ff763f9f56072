#!/usr/bin/env node
/**
 * dcp-emu-evaluator: DCP's evaluator line protocol on TCP, one isolated-vm isolate per connection.
 * isolated-vm needs `node --no-node-snapshot`; without it this launcher re-executes itself with it.
 * Runs the built code (dist/) when present, else the TypeScript sources through tsx.
 */

const { spawn } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const flag = '--no-node-snapshot';
if (!process.execArgv.includes(flag) && !(process.env.NODE_OPTIONS || '').includes(flag)) {
  const child = spawn(process.execPath, [...process.execArgv, flag, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code === null ? (signal === 'SIGINT' ? 130 : 1) : code));
} else {
  const built = path.join(__dirname, '..', 'dist', 'evaluator', 'cli.js');
  const sources = path.join(__dirname, '..', 'src', 'evaluator');
  /* dist/ only when its newest output is at least as new as every source (a stale build would hide edits) */
  const newest = (dir, ext) => {
    try {
      return Math.max(
        0,
        ...readdirSync(dir)
          .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.endsWith('.spec.ts'))
          .map((f) => statSync(path.join(dir, f)).mtimeMs),
      );
    } catch {
      return 0;
    }
  };
  const useBuilt = existsSync(built) && newest(path.dirname(built), '.js') >= newest(sources, '.ts');
  if (!useBuilt) require('tsx/cjs');
  const { main } = require(useBuilt ? built : path.join(sources, 'cli.ts'));
  main().catch((e) => {
    process.stderr.write(`dcp-emu-evaluator: ${e?.stack || e}\n`);
    process.exit(1);
  });
}
