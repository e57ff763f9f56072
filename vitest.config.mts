import { defineConfig } from 'vitest/config';

// One vitest run for every workspace: unit specs live beside the code (src/**/*.spec.ts),
// cross-app suites in tests/e2e. Workspace packages resolve to their TypeScript sources
// through the "source" export condition, so tests never need a prior build.
export default defineConfig({
  resolve: {
    conditions: ['source'],
    // the portal's path alias (apps/portal/tsconfig.json `@/*`), for specs that import its route handlers
    alias: [{ find: /^@\/(.*)$/, replacement: `${import.meta.dirname}/apps/portal/src/$1` }],
  },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.spec.ts', 'apps/*/src/**/*.spec.ts', 'tests/e2e/**/*.e2e.ts'],
    globalSetup: ['packages/testing/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
