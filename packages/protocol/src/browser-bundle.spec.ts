import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTarget, type TestTarget } from './test-support/harness';

/**
 * The core entry must run in browsers (the portal's browser worker): bundle it for the browser
 * platform and run the bundle, with only web globals, against our target over a real WebSocket.
 */
describe('browser build of @dcp-emu/protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcp-browser-'));
  let t: TestTarget;
  let inputs: string[] = [];

  beforeAll(async () => {
    const result = await build({
      entryPoints: [join(__dirname, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    inputs = Object.keys(result.metafile.inputs);
    writeFileSync(join(dir, 'protocol.mjs'), result.outputFiles[0]!.text);
    t = await startTestTarget();
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls in no Node-only module', () => {
    expect(inputs.some((i) => i.includes('socket.io-client'))).toBe(true);
    expect(inputs.some((i) => i.includes('@noble/curves'))).toBe(true);
    for (const forbidden of [
      /^node:/,
      /node_modules\/secp256k1\//,
      /node_modules\/socket\.io\//,
      /node_modules\/ethers\//,
      /keystore/,
    ])
      expect(inputs.filter((i) => forbidden.test(i))).toEqual([]);
  });

  it('signs with noble, speaks KVIN, and talks DCP to our target over WebSocket', async () => {
    writeFileSync(
      join(dir, 'run.mjs'),
      `const m = await import('./protocol.mjs');
const identity = m.Identity.random();
const i = new m.DcpInitiator({ location: process.argv[2], identity, logger: m.silentLogger,
  socketOptions: { transports: ['websocket'] } });
const answer = await i.request('echo', { uri: m.dataUri.encode({ a: [1, 2] }) });
console.log(JSON.stringify({ crypto: m.getDefaultCrypto().name, address: identity.address,
  decoded: m.dataUri.decode(answer.uri), target: i.peerAddress }));
await i.close();
process.exit(0);
`,
    );
    const child = spawn(
      process.execPath,
      ['--experimental-websocket', '--no-warnings', join(dir, 'run.mjs'), t.location],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (c) => {
        clearTimeout(timeout);
        resolve(c);
      });
    });
    expect(code, err).toBe(0);
    const report = JSON.parse(out.trim());
    expect(report).toMatchObject({ crypto: 'noble', decoded: { a: [1, 2] }, target: t.target.address });
  });
});
