import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export { type DiscoveredScheduler, discoverScheduler } from '@dcp-emu/worker-core';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The worker's 22-character id, created once and kept in `file` (dcp-client keeps it in localStorage). */
export function loadOrCreateWorkerId(file: string): string {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9]{22}$/.test(id)) return id;
  } catch {
    // not created yet
  }
  let id = '';
  for (let i = 0; i < 22; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
