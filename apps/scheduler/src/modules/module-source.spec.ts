import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isModuleDeclare, staticRequires, toModuleDeclare } from './module-source';

/** Evaluate a served source as a sandbox does: `module.declare` records the declaration. */
function declare(source: string): { deps: string[]; exports: Record<string, unknown> } {
  let deps: string[] = [];
  let factory: ((req: unknown, exports: object, module: object) => unknown) | undefined;
  runInNewContext(source, {
    module: {
      declare(d: string[] | typeof factory, f?: typeof factory) {
        if (typeof d === 'function') factory = d;
        else {
          deps = d as string[];
          factory = f;
        }
      },
    },
  });
  const module = { exports: {} as Record<string, unknown> };
  const required: Record<string, unknown> = { './other': { base: 10 } };
  factory?.((id: string) => required[id], module.exports, module);
  return { deps, exports: module.exports };
}

describe('module sources for sandboxes', () => {
  it('wraps a plain CommonJS module with its static requires as dependencies', () => {
    const src = "const other = require('./other');\nexports.square = (x) => x * x + other.base;";
    const served = toModuleDeclare(src);
    const { deps, exports } = declare(served);
    expect(deps).toEqual(['./other']);
    expect((exports.square as (x: number) => number)(3)).toBe(19);
  });

  it('keeps module.exports replacement and a trailing line comment working', () => {
    const { exports } = declare(toModuleDeclare('module.exports = { v: 42 }; // no newline at the end'));
    expect(exports).toEqual({ v: 42 });
  });

  it('serves BravoJS sources unchanged', () => {
    const src = "module.declare(['./other'], function (require, exports) { exports.x = 1; });";
    expect(isModuleDeclare(src)).toBe(true);
    expect(toModuleDeclare(src)).toBe(src);
  });

  it('does not take module.declare in comments or strings for a declaration', () => {
    const src = "// module.declare(x)\nconst s = 'module.declare(';\nexports.s = s;";
    expect(isModuleDeclare(src)).toBe(false);
    expect(declare(toModuleDeclare(src)).exports).toEqual({ s: 'module.declare(' });
  });

  it('lists relative and package requires once; skips bare names, comments, strings and dynamic ids', () => {
    const src = [
      'const a = require(\'./a\'), b = require("../lib/b.js");',
      "const c = require('other-pkg/helper');",
      "const again = require('./a');",
      "if (typeof window === 'undefined') require('fs');",
      "// require('./commented')",
      'const s = "require(\'./in-a-string\')";',
      "const d = require('./d' + suffix);",
      'const e = obj.require("./method-call");',
    ].join('\n');
    expect(staticRequires(src)).toEqual(['./a', '../lib/b.js', 'other-pkg/helper']);
  });

  it('turns a shebang line into a comment', () => {
    expect(declare(toModuleDeclare('#!/usr/bin/env node\nexports.ok = true;')).exports).toEqual({ ok: true });
  });
});
