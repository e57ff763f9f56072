#!/usr/bin/env node
/**
 * dcp-emu-worker: our DCP worker (supervisor + its own dcp-emu-evaluator), with dcp-worker's flags
 * where they apply. Runs the built code (dist/) when present, else (or with
 * DCP_EMU_WORKER_FROM_SOURCE=1) the TypeScript sources through tsx.
 * `dcp-emu-worker --help` lists the options.
 */

const { existsSync } = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const useBuilt = existsSync(built) && !process.env.DCP_EMU_WORKER_FROM_SOURCE;
if (!useBuilt) require('tsx/cjs');
const { main } = require(useBuilt ? built : path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
main().catch((e) => {
  process.stderr.write(`dcp-emu-worker: ${e?.stack || e}\n`);
  process.exit(1);
});
