/**
 * Import directions, checked by `npm run lint` (dependency-cruiser): apps never import apps,
 * packages never import apps, and inside an app the lower layers (state, stores, repositories,
 * ports, the ledger, upstream clients) never import use cases. `tests/lint/import-rules.spec.ts`
 * runs this configuration on fixtures that break each rule and expects it to fail.
 */

/** Folders and files of an app's lower layers. */
const LOWER_LAYER = [
  '^apps/[^/]+/src/(state|store|stores|ports|ledger)/',
  '^apps/portal/src/server/upstream/',
  '^apps/[^/]+/src/.+[.](repository|store|port)[.]ts$',
];

const { existsSync } = require('node:fs');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-app-to-app',
      severity: 'error',
      comment:
        'An app never imports another app: what two apps share is a package (packages/*), e.g. the ' +
        "worker's supervisor is @dcp-emu/worker-core, which the portal runs in a page.",
      from: { path: '^apps/([^/]+)/' },
      to: {
        path: '^apps/',
        pathNot: ['^apps/$1/'],
      },
    },
    {
      name: 'no-package-to-app',
      severity: 'error',
      comment: 'Packages are below the apps: a package never imports an app.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-lower-layer-to-use-case',
      severity: 'error',
      comment:
        'Inside an app, lower layers (state, stores, repositories, ports, the ledger, upstream clients) ' +
        'never import use cases: use cases call them, not the other way round.',
      from: { path: LOWER_LAYER },
      to: { path: '\\.usecase\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.next|generated)/' },
    tsPreCompilationDeps: true,
    // the repo's spec tsconfig (path aliases, the `source` condition); fixtures of the rule test have none
    ...(existsSync('tsconfig.specs.json') ? { tsConfig: { fileName: 'tsconfig.specs.json' } } : {}),
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.cjs', '.mjs', '.json'],
      mainFields: ['main', 'types'],
    },
  },
};
