import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * `@dcp-emu/worker-core` is what the portal's browser worker bundles: it must pull in no
 * Node-only module (the TCP evaluator sandbox, keystores, fs) and still carry the supervisor core.
 */
describe('browser entry of @dcp-emu/worker-core', () => {
  it('bundles for the browser platform without Node modules', async () => {
    const result = await build({
      entryPoints: [join(__dirname, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      conditions: ['source'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.endsWith('worker-core/src/supervisor-core.ts'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('worker-core/src/line-sandbox.ts'))).toBe(true);
    expect(inputs.some((i) => i.includes('socket.io-client'))).toBe(true);
    for (const forbidden of [
      /^node:/,
      /evaluator-sandbox\.ts$/,
      /discovery\.ts$/,
      /\/evaluator\//,
      /node_modules\/secp256k1\//,
      /node_modules\/isolated-vm\//,
      /protocol\/src\/node\.ts$/,
      /keystore/,
    ])
      expect(inputs.filter((i) => forbidden.test(i))).toEqual([]);
    const text = result.outputFiles[0]?.text ?? '';
    expect(text).toContain('requestTask@3');
  });
});
