/**
 * Module sources as DCP's sandboxes load them. A sandbox (dcp-client's BravoJS environment, and our
 * evaluator's prelude) evaluates every file of a `moduleGroup` expecting a CommonJS Modules/2.0
 * `module.declare(dependencies, factory)` call; the factory runs on the first `require()` and the
 * dependencies are fetched (`dependency` → `fetchModuleURL`) before the job is assigned. Packages
 * published with `dcp-util publish` / `require('dcp/publish')` are usually plain CommonJS
 * (`exports.f = …`, `module.exports = …`, `require('./other')`), so the package manager serves them
 * wrapped: `module.declare([<static requires>], function (require, exports, module) { <source> })`.
 * Sources that already declare themselves are served unchanged.
 */

/** The source with comments, string and template contents blanked (same length), for scanning. */
function codeOnly(source: string): string {
  const out = source.split('');
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let k = i + 1;
      while (k < source.length && source[k] !== c) {
        if (source[k] === '\\') k++;
        else if (c !== '`' && source[k] === '\n') break;
        k++;
      }
      // keep the quotes, blank the contents (a require('x') argument is read from the original)
      blank(i + 1, k);
      i = k + 1;
    } else i++;
  }
  return out.join('');
}

/** Does the source declare itself as a CommonJS Modules/2.0 (BravoJS) module? */
export function isModuleDeclare(source: string): boolean {
  return /(^|[^.\w$])module\s*\.\s*declare\s*\(/.test(codeOnly(source));
}

/**
 * The module identifiers a CommonJS source `require`s with a string literal, in order, without
 * duplicates: relative ones (`./x`, `../x`) and package modules (`pkg/module`). Bare names (`fs`,
 * `crypto`, `pkg`) are left out: they are not DCP package modules, and a dependency that cannot be
 * delivered fails the whole job (ENOMODULE), so a guarded `require('fs')` must not become one.
 */
export function staticRequires(source: string): string[] {
  const code = codeOnly(source);
  const found: string[] = [];
  const re = /(^|[^.\w$])require\s*\(\s*(['"])/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const quote = m[2] as string;
    const start = m.index + m[0].length;
    const end = source.indexOf(quote, start);
    if (end === -1) continue;
    if (!/^\s*\)/.test(code.slice(end + 1))) continue; // require('a' + b): not static
    const id = source.slice(start, end);
    if (!id || /[\\\n]/.test(id)) continue;
    const relative = id.startsWith('./') || id.startsWith('../');
    if (!relative && !/^[\w.@-]+\/./.test(id)) continue;
    if (!found.includes(id)) found.push(id);
  }
  return found;
}

/** The source as sandboxes load it: BravoJS sources unchanged, CommonJS ones wrapped. */
export function toModuleDeclare(source: string): string {
  if (isModuleDeclare(source)) return source;
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  return `module.declare(${JSON.stringify(staticRequires(body))}, function (require, exports, module) {\n${body}\n});\n`;
}
