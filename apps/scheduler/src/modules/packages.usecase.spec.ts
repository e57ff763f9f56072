import { type Database, openDatabase } from '@dcp-emu/db';
import { DcpError, silentLogger } from '@dcp-emu/protocol/node';
import { freshDatabase, type TestDatabase } from '@dcp-emu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerContext } from '../context';
import { PackageRepository } from '../store/package.repository';
import { Packages, resolveModuleId } from './packages.usecase';

/** The package manager over a real SQLite database. */
describe('packages: deployPackage / fetchModuleURL / module sources', () => {
  let tdb: TestDatabase;
  let db: Database;
  let packages: Packages;

  beforeAll(async () => {
    tdb = await freshDatabase('sqlite');
    db = await openDatabase({ url: tdb.url, dataDir: '/tmp' });
    const ctx = {
      packages: new PackageRepository(db.prisma),
      clock: { now: () => Date.parse('2026-01-01T00:00:00Z') },
      logger: silentLogger,
    } as unknown as SchedulerContext;
    packages = new Packages(ctx);
    packages.baseUrl = () => 'http://127.0.0.1:7430/';
    const deploy = (name: string, files: Record<string, string>) =>
      packages.deploy({ name, version: '1.0.0', files }, '0x1111111111111111111111111111111111111111');
    await deploy('base', { 'offset.js': 'exports.offset = 100;' });
    await deploy('cjs', {
      'square.js':
        "const h = require('./lib/helper');\nconst { offset } = require('base/offset');\nexports.square = (x) => h.t(x, x) + offset;",
      'lib/helper.js': "module.exports = { t: (a, b) => a * b, up: require('../up') };",
      'up.js': "if (typeof window !== 'undefined') require('./browser-only');\nexports.up = 1;",
      'unused.js': 'exports.never = true;',
    });
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('answers the requested modules with everything they require, in one group', async () => {
    const urls = await packages.moduleUrls({ modules: ['cjs/square'] });
    expect(urls).toEqual({
      cjs: {
        square: 'http://127.0.0.1:7430/modules/cjs/square',
        'lib/helper': 'http://127.0.0.1:7430/modules/cjs/lib%2Fhelper',
        up: 'http://127.0.0.1:7430/modules/cjs/up',
      },
      base: { offset: 'http://127.0.0.1:7430/modules/base/offset' },
    });
  });

  it('refuses a requested module nobody published (ENOENT), not a missing module it requires', async () => {
    await expect(packages.moduleUrls({ modules: ['cjs/nothing'] })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(packages.moduleUrls({ modules: ['nopackage'] })).rejects.toBeInstanceOf(DcpError);
    expect(Object.keys((await packages.moduleUrls({ modules: ['cjs/up'] })).cjs ?? {})).toEqual(['up']);
  });

  it('serves sources wrapped as module.declare with their requires', async () => {
    expect(await packages.source('cjs', 'lib/helper')).toBe(
      'module.declare(["../up"], function (require, exports, module) {\nmodule.exports = { t: (a, b) => a * b, up: require(\'../up\') };\n});\n',
    );
    expect(await packages.source('cjs', 'missing')).toBeUndefined();
  });

  it('resolves required ids inside their package', () => {
    expect(resolveModuleId('pkg/lib/a', './b')).toBe('pkg/lib/b');
    expect(resolveModuleId('pkg/lib/a', '../c.js')).toBe('pkg/c.js');
    expect(resolveModuleId('pkg/a', '../escape')).toBeUndefined();
    expect(resolveModuleId('pkg/a', 'other/mod')).toBe('other/mod');
  });
});
