import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpArgs } from './args';

function free(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A base port N with N … N+4 all free on `host` (the stack's five ports). */
export async function freePortBase(host: string): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let p = base; p < base + 5 && ok; p++) ok = await free(p, host);
    if (ok) return base;
  }
  throw new Error(`found no five free consecutive ports on ${host}`);
}

/**
 * `dcp-emu exec`: the `up` options for a throw-away stack — its own data dir (removed afterwards)
 * unless --data-dir was given, free ports unless --port-base was — and the command to run in it.
 */
export async function execOptions(c: {
  up: UpArgs;
  ephemeral: boolean;
  freePorts: boolean;
}): Promise<UpArgs & { cleanDataDir: boolean }> {
  const dataDir = c.ephemeral ? mkdtempSync(join(tmpdir(), 'dcp-emu-exec-')) : c.up.dataDir;
  let ports = c.up.ports;
  if (c.freePorts) {
    const base = await freePortBase(c.up.host);
    ports = { scheduler: base, bank: base + 1, portal: base + 2, worker: base + 3, evaluator: base + 4 };
  }
  return { ...c.up, dataDir, ports, cleanDataDir: c.ephemeral };
}
