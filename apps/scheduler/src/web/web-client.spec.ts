import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { dcpClientDir, dcpConfigScript, servedFile, webFile, webLocations } from './web-client';

describe('dcp-client for web pages', () => {
  const dir = dcpClientDir() as string;

  it('finds the installed dcp-client', () => {
    expect(dir).toBeTruthy();
    expect(servedFile(dir, 'dcp-client.js')?.file).toBe(join(dir, 'dcp-client.js'));
  });

  it('serves the loader, bundle, assets, generated tables and sandbox scripts only', () => {
    for (const ok of [
      'dcp-client.js',
      'dist/dcp-client-bundle.js',
      'assets/dcp-client.css',
      'generated/worktimes.json',
      'libexec/sandbox/bootstrap.js',
    ])
      expect(servedFile(dir, ok), ok).toBeDefined();
    expect(servedFile(dir, 'dist/dcp-client-bundle.js')?.type).toMatch(/javascript/);
    for (const no of [
      'package.json',
      'index.js',
      'dist/../package.json',
      'assets/../../dcp-worker/package.json',
      'assets//dcp-client.css',
      'libexec/evaluator-node.js',
      'dist/missing.js',
    ])
      expect(servedFile(dir, no), no).toBeUndefined();
  });

  it('maps /kvin/kvin.js and /bravojs/bravo.js to the packages dcp-client uses', () => {
    expect(webFile(dir, 'kvin/kvin.js')?.file).toMatch(/kvin\.js$/);
    expect(webFile(dir, 'bravojs/bravo.js')?.file).toMatch(/bravo\.js$/);
    expect(webFile(dir, 'kvin/package.json')).toBeUndefined();
    expect(webFile(dir, 'dcp-client/dcp-client.js')?.file).toBe(join(dir, 'dcp-client.js'));
  });

  it('writes dcp-config.js as a script that sets dcpConfig, URLs as URL objects', () => {
    const base = new URL('http://127.0.0.1:7430/');
    const script = dcpConfigScript({
      scheduler: { location: base, services: { eventRouter: { location: new URL('event-router/', base) } } },
      job: { maxDeployTime: 60, list: [1, 'a', null] },
      ...webLocations(base),
    });
    const sandbox: Record<string, unknown> = { URL };
    runInNewContext(script, sandbox);
    const config = sandbox.dcpConfig as {
      scheduler: { location: URL; services: { eventRouter: { location: URL } } };
      job: unknown;
      cdn: { location: URL };
    };
    expect(config.scheduler.location).toBeInstanceOf(URL);
    expect(config.scheduler.services.eventRouter.location.href).toBe('http://127.0.0.1:7430/event-router/');
    expect(config.job).toEqual({ maxDeployTime: 60, list: [1, 'a', null] });
    expect(config.cdn.location.href).toBe('http://127.0.0.1:7430/');
  });
});
