import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@dcp-emu/testing';
import { describe, expect, it } from 'vitest';

/**
 * The import-direction rules of `npm run lint` (.dependency-cruiser.cjs), run by dependency-cruiser
 * itself on two small trees: one that keeps every rule (passes) and one with a deliberate breach of
 * each (an app importing an app, a package importing an app, a store importing a use case), which
 * must fail naming each rule and each offending import.
 */

const FIXTURES = join(__dirname, 'fixtures');

function cruise(tree: string): { status: number | null; output: string } {
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      'apps',
      'packages',
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'err',
    ],
    { cwd: join(FIXTURES, tree), encoding: 'utf8' },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('import-direction rules (dependency-cruiser)', () => {
  it('a tree that keeps the rules passes', () => {
    const r = cruise('clean');
    expect(r.output).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  });

  it('an app importing an app, a package importing an app and a store importing a use case fail', () => {
    const r = cruise('breaches');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('no-app-to-app: apps/alpha/src/main.ts → apps/beta/src/index.ts');
    expect(r.output).toContain('no-package-to-app: packages/kit/src/app-helper.ts → apps/beta/src/index.ts');
    expect(r.output).toContain(
      'no-lower-layer-to-use-case: apps/alpha/src/state/thing.store.ts → apps/alpha/src/jobs/do-thing.usecase.ts',
    );
  });
});
