import { join, resolve } from 'node:path';
import type { NextConfig } from 'next';

const repoRoot = resolve(__dirname, '../..');

/**
 * Workspace packages are consumed from their TypeScript sources (the `source` export condition),
 * so the portal never needs a prior `tsc -b`. Turbopack has no custom-condition setting; the
 * aliases below point each package entry at its source file instead.
 */
const workspaceSources: Record<string, string> = {
  '@dcp-emu/service-kit': 'packages/service-kit/src/index.ts',
  '@dcp-emu/contracts': 'packages/contracts/src/index.ts',
  '@dcp-emu/db': 'packages/db/src/index.ts',
  '@dcp-emu/protocol': 'packages/protocol/src/index.ts',
  '@dcp-emu/worker-core': 'packages/worker-core/src/index.ts',
};

const nextConfig: NextConfig = {
  // The e2e suite builds into its own folder (under .next/cache, which `next build` never cleans) so
  // that its `next start` is not disturbed by other builds of the portal in the same checkout.
  distDir: process.env.DCP_EMU_PORTAL_DIST_DIR || '.next',
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: [
    ...new Set(Object.keys(workspaceSources).map((n) => n.split('/').slice(0, 2).join('/'))),
  ],
  serverExternalPackages: [
    'better-sqlite3',
    'pg',
    '@prisma/client',
    '@prisma/adapter-better-sqlite3',
    '@prisma/adapter-pg',
  ],
  outputFileTracingRoot: repoRoot,
  turbopack: {
    root: repoRoot,
    resolveAlias: Object.fromEntries(
      Object.entries(workspaceSources).map(([name, file]) => [name, join(repoRoot, file)]),
    ),
  },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default nextConfig;
