import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assembleSandboxScript } from './sandbox-script';

/** Files the sandbox script is made of, relative to the repository root. */
const FILES = {
  kvinV9: 'node_modules/kvin/kvin.js',
  kvinV8: 'node_modules/kvin-v8/kvin.js',
  prelude: 'apps/worker/src/evaluator/prelude/sandbox-prelude.js',
  polyfills: 'apps/worker/src/evaluator/prelude/sandbox-polyfills.js',
} as const;

/**
 * The repository root: the first folder at or above `start` holding our evaluator's prelude (the
 * portal runs from apps/portal, its bundle from .next; neither knows its place at build time).
 */
export function findRepoRoot(start: string = process.cwd()): string {
  for (let dir = resolve(/*turbopackIgnore: true*/ start); ; dir = dirname(dir)) {
    if (
      existsSync(/*turbopackIgnore: true*/ join(dir, FILES.prelude)) &&
      existsSync(/*turbopackIgnore: true*/ join(dir, FILES.kvinV9))
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${FILES.prelude} above ${start}`);
  }
}

const cache = new Map<string, string>();

/**
 * The Web Worker script of one browser sandbox (see sandbox-script.ts), read from the installed
 * KVIN builds and our evaluator's prelude once per process. `polyfills` only for scopes without
 * URL/TextEncoder (the specs' bare `vm` contexts), never for browsers.
 */
export function sandboxScript(options: { root?: string; polyfills?: boolean } = {}): string {
  const root = options.root ?? findRepoRoot();
  const key = `${root} ${options.polyfills === true}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const read = (file: string) => readFileSync(/*turbopackIgnore: true*/ join(root, file), 'utf8');
  const script = assembleSandboxScript({
    kvinV9: read(FILES.kvinV9),
    kvinV8: read(FILES.kvinV8),
    prelude: read(FILES.prelude),
    ...(options.polyfills ? { polyfills: read(FILES.polyfills) } : {}),
  });
  cache.set(key, script);
  return script;
}
