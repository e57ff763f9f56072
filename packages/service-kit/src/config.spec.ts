import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, flag, loadConfig, port } from './config';
import { defaultDataDir } from './data-dir';

const shape = { ...commonEnv, DCP_EMU_TEST_PORT: port.default(7430), DCP_EMU_TEST_FLAG: flag.default(false) };
const build = (e: z.infer<z.ZodObject<typeof shape>>, dataDir: string) => ({
  port: e.DCP_EMU_TEST_PORT,
  flag: e.DCP_EMU_TEST_FLAG,
  host: e.DCP_EMU_HOST,
  level: e.DCP_EMU_LOG_LEVEL,
  dataDir,
});

describe('loadConfig', () => {
  it('applies defaults that work on one machine', () => {
    const c = loadConfig('test', shape, build, { HOME: '/home/u' });
    expect(c).toMatchObject({ port: 7430, flag: false, host: '127.0.0.1', level: 'info' });
  });

  it('coerces env strings', () => {
    const c = loadConfig('test', shape, build, { DCP_EMU_TEST_PORT: '9001', DCP_EMU_TEST_FLAG: 'yes' });
    expect(c.port).toBe(9001);
    expect(c.flag).toBe(true);
  });

  it('reports every invalid variable at once', () => {
    const bad = { DCP_EMU_TEST_PORT: '70000', DCP_EMU_LOG_LEVEL: 'loud' };
    expect(() => loadConfig('test', shape, build, bad)).toThrow(ConfigError);
    try {
      loadConfig('test', shape, build, bad);
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toContain('DCP_EMU_TEST_PORT');
      expect(problems).toContain('DCP_EMU_LOG_LEVEL');
    }
  });
});

describe('defaultDataDir', () => {
  it('prefers DCP_EMU_DATA_DIR', () => {
    expect(defaultDataDir({ DCP_EMU_DATA_DIR: '/x' }, 'linux', '/home/u')).toBe('/x');
  });
  it('uses XDG on linux and never ~/.dcp', () => {
    expect(defaultDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/dcp-emu');
    expect(defaultDataDir({ XDG_DATA_HOME: '/d' }, 'linux', '/home/u')).toBe('/d/dcp-emu');
    expect(defaultDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/dcp-emu');
  });
});
