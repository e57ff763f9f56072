#!/usr/bin/env node

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(entry)) {
  // First run on a fresh clone: compile the TypeScript workspaces (the CLI then builds the rest).
  const { execFileSync } = require('node:child_process');
  const root = join(__dirname, '..', '..', '..');
  console.error('dcp-emu: first run, building the TypeScript workspaces…');
  execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' });
}
require(entry);
