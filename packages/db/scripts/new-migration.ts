#!/usr/bin/env -S npx tsx
// Authors a new migration for both providers: diffs the previous schema of each provider
// against prisma/models with Prisma's WebAssembly schema engine (the native engine cannot be
// downloaded here) and writes prisma/migrations/<provider>/<timestamp>_<name>/migration.sql.
// Each migration folder also keeps the schema.prisma it produced; the next migration is the diff
// from that snapshot to the current models, so no migration history is replayed. The PostgreSQL
// flavour still wants a server to talk to: DCP_EMU_SHADOW_PG_URL, else a throw-away one.
//   npm run migration:new -w @dcp-emu/db -- <name>
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { startPostgres } from '../../testing/src/postgres';
// @ts-expect-error the generate script is plain ESM without types
import { writeSchemas } from './generate.mjs';

type Engine = {
  diff(p: unknown): Promise<{ exitCode: number; stdout: string | null }>;
};

const root = resolve(__dirname, '../../..');
const migrationsRoot = join(root, 'prisma', 'migrations');

type Bg = { SchemaEngine: { new (o: unknown, cb: () => void, a: unknown): Promise<Engine> } };
let bgModule: Promise<Bg> | undefined;

/** Instantiates the engine's WebAssembly once per process (wasm-bindgen keeps module-level state). */
function loadBg(): Promise<Bg> {
  bgModule ??= (async () => {
    const require = createRequire(__filename);
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown };
    g.PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message: (m: string) => console.error(`schema engine panic: ${m}`),
    };
    const bg = await import(bgPath);
    const bytes = readFileSync(bgPath.replace(/\.js$/, '.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
    return bg as Bg;
  })();
  return bgModule;
}

async function loadEngine(schemaPath: string, adapter: unknown): Promise<Engine> {
  const bg = await loadBg();
  return bg.SchemaEngine.new(
    { datamodels: [[schemaPath, readFileSync(schemaPath, 'utf8')]] },
    () => {},
    adapter,
  );
}

/** The models as of the newest committed migration (its schema.prisma snapshot), or none. */
function previousSchema(provider: string): string | undefined {
  const baseDir = join(migrationsRoot, provider);
  mkdirSync(baseDir, { recursive: true });
  const last = readdirSync(baseDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .pop();
  if (!last) return undefined;
  const snapshot = join(baseDir, last, 'schema.prisma');
  if (!existsSync(snapshot))
    throw new Error(`${snapshot} is missing: every migration keeps the schema it produced`);
  return readFileSync(snapshot, 'utf8');
}

async function diffFor(provider: string, schemaPath: string, adapter: unknown): Promise<string> {
  const engine = await loadEngine(schemaPath, bindMigrationAwareSqlAdapterFactory(adapter as never));
  const before = previousSchema(provider);
  const result = await engine.diff({
    from: before
      ? { tag: 'schemaDatamodel', files: [{ path: 'previous.prisma', content: before }] }
      : { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }] },
    script: true,
    exitCode: null,
    filters: { externalTables: [], externalEnums: [] },
  });
  return (result.stdout ?? '').trim();
}

async function main() {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error('usage: npm run migration:new -w @dcp-emu/db -- <snake_case_name>');
    process.exit(2);
  }
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const folder = `${stamp}_${name}`;
  const schemas = writeSchemas() as { provider: string; file: string }[];
  // The PostgreSQL flavour connects once even to diff two datamodels (it reads the server version).
  const pg = process.env.DCP_EMU_SHADOW_PG_URL ? undefined : await startPostgres();
  const pgUrl = process.env.DCP_EMU_SHADOW_PG_URL ?? (pg as { url: string }).url;
  try {
    const scripts: Record<string, string> = {};
    for (const { provider, file } of schemas) {
      const adapter =
        provider === 'sqlite'
          ? new PrismaBetterSqlite3({ url: ':memory:' })
          : new PrismaPg({ connectionString: pgUrl });
      scripts[provider] = await diffFor(provider, file, adapter);
    }
    const empty = Object.values(scripts).every((s) => s === '' || /^-- This is an empty migration/.test(s));
    if (empty) {
      console.log('no schema changes: nothing written');
      return;
    }
    for (const [provider, sql] of Object.entries(scripts)) {
      const dir = join(migrationsRoot, provider, folder);
      if (existsSync(dir)) throw new Error(`${dir} exists`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'migration.sql'), `${sql}\n`);
      writeFileSync(
        join(dir, 'schema.prisma'),
        readFileSync(schemas.find((x) => x.provider === provider)!.file, 'utf8'),
      );
      console.log(`wrote prisma/migrations/${provider}/${folder}/migration.sql`);
    }
  } finally {
    pg?.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
