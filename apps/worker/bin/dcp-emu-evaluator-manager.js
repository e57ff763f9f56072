#!/usr/bin/env node
/**
 * dcp-emu-evaluator-manager: dcp-worker's dcp-evaluator-manager for dcp-emu-evaluator — refuses and
 * closes sandboxes while this machine is busy (terminal in use, load average, toggle signal).
 * Runs the built code (dist/) when present, else the TypeScript sources through tsx.
 */

const { existsSync } = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'evaluator-manager', 'cli.js');
const useBuilt = existsSync(built) && !process.env.DCP_EMU_WORKER_FROM_SOURCE;
if (!useBuilt) require('tsx/cjs');
const { main } = require(useBuilt ? built : path.join(__dirname, '..', 'src', 'evaluator-manager', 'cli.ts'));
main().catch((e) => {
  process.stderr.write(`dcp-emu-evaluator-manager: ${e?.stack || e}\n`);
  process.exit(1);
});
