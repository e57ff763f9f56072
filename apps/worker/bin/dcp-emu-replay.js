#!/usr/bin/env node
/**
 * dcp-emu-replay: runs one slice again (what `dcp-emu replay` starts; see src/replay/main.ts).
 * Runs the built code (dist/) when present, else (or with DCP_EMU_WORKER_FROM_SOURCE=1) the
 * TypeScript sources through tsx. Needs node --no-node-snapshot (isolated-vm) unless --inspect.
 */

const { existsSync } = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'replay', 'main.js');
const useBuilt = existsSync(built) && !process.env.DCP_EMU_WORKER_FROM_SOURCE;
if (!useBuilt) require('tsx/cjs');
const { main } = require(useBuilt ? built : path.join(__dirname, '..', 'src', 'replay', 'main.ts'));
main().catch((e) => {
  process.stderr.write(`dcp-emu-replay: ${e?.stack || e}\n`);
  process.exit(1);
});
