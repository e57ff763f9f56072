import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';

/**
 * dcp-client for web pages, as a DCP scheduler serves it: `<script src="<scheduler>/dcp-client/dcp-client.js">`
 * (dcp-client's `examples/vanilla-web`). That loader writes two more script tags: the configuration,
 * `<scheduler>/etc/dcp-config.js` (a script that sets the global `dcpConfig`, URL values as `URL`
 * objects, which the bundle turns into DcpURLs), and the bundle, `<scheduler>/dcp-client/dist/dcp-client-bundle.js`,
 * plus the stylesheet `<scheduler>/dcp-client/assets/dcp-client.css`. The files are the installed
 * dcp-client package's own (5.6.1), served as they are.
 */

/** The installed dcp-client package directory, or undefined when it is not installed. */
export function dcpClientDir(): string | undefined {
  for (const from of [__filename, join(process.cwd(), 'package.json')]) {
    try {
      return dirname(createRequire(from).resolve('dcp-client/package.json'));
    } catch {
      /* try the next place */
    }
  }
  return undefined;
}

/**
 * Files of the package a page may load: the loader, the bundle (and its map and licence), the assets,
 * the generated tables the bundle fetches, and the sandbox scripts of a browser worker (its Web
 * Workers `importScripts()` them, with `/kvin/kvin.js` and `/bravojs/bravo.js`: see webFile()).
 */
const SERVED =
  /^(dcp-client\.js|dcp-client\.css|favicon\.ico|dist\/[\w.-]+|assets\/[\w./-]+|generated\/[\w.-]+\.json|libexec\/sandbox\/[\w.-]+\.js)$/;

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The file of `dir` that `path` (relative to `/dcp-client/`) names, if a page may load it. */
export function servedFile(
  dir: string,
  path: string,
  allowed: RegExp = SERVED,
): { file: string; type: string } | undefined {
  if (!allowed.test(path) || path.split('/').some((seg) => seg === '..' || seg === '.' || seg === ''))
    return undefined;
  const file = join(dir, path);
  if (!existsSync(file)) return undefined;
  const real = realpathSync(file);
  if (!real.startsWith(realpathSync(dir) + sep)) return undefined;
  return { file: real, type: TYPES[extname(real)] ?? 'application/octet-stream' };
}

/**
 * The file a web page asks for at `path` (below the scheduler's root): `dcp-client/…` from the
 * package, and the two scripts a browser worker's sandboxes load from packages dcp-client depends on.
 */
export function webFile(dir: string, path: string): { file: string; type: string } | undefined {
  if (path.startsWith('dcp-client/')) return servedFile(dir, path.slice('dcp-client/'.length));
  const dep = /^(kvin)\/(kvin\.js)$|^(bravojs)\/(bravo\.js)$/.exec(path);
  if (!dep) return undefined;
  const pkg = (dep[1] ?? dep[3]) as string;
  const name = (dep[2] ?? dep[4]) as string;
  try {
    const pkgDir = dirname(createRequire(join(dir, 'package.json')).resolve(`${pkg}/package.json`));
    return servedFile(pkgDir, name, /^[\w.-]+\.js$/);
  } catch {
    return undefined;
  }
}

/** A JavaScript expression that builds `value` (URLs as `new URL(…)`; plain data as literals). */
function toJs(value: unknown, depth = 0): string {
  if (depth > 32) throw new Error('dcp-config too deep');
  if (value instanceof URL) return `new URL(${JSON.stringify(value.href)})`;
  if (Array.isArray(value)) return `[${value.map((v) => toJs(v, depth + 1)).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${toJs(v, depth + 1)}`).join(', ')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

/**
 * What the web loader reads on top of a node client's configuration: `cdn` and `pxAuth`, where its
 * `dcp-cdn-href` / `dcp-auth-src` attributes point (it reads both on every page). The emulator has no
 * CDN or auth host: both are the scheduler, which serves dcp-client's assets.
 */
export function webLocations(base: URL): Record<string, { location: URL }> {
  return { cdn: { location: new URL('/', base) }, pxAuth: { location: new URL('/', base) } };
}

/** `/etc/dcp-config.js`: the script that sets `dcpConfig` for dcp-client's web loader. */
export function dcpConfigScript(config: Record<string, unknown>): string {
  return `/* dcp-emu: the dcp-client configuration (the same as /etc/dcp-config.kvin) for web pages */\nvar dcpConfig = ${toJs(config)};\n`;
}
