import { ConfigError } from '@dcp-emu/service-kit';
import { describe, expect, it } from 'vitest';
import { loadPortalConfig } from './config';

describe('portal config', () => {
  it('defaults to port 7432 and the local scheduler and bank', () => {
    const c = loadPortalConfig({ DCP_EMU_DATA_DIR: '/tmp/x' });
    expect(c).toMatchObject({
      port: 7432,
      host: '127.0.0.1',
      dataDir: '/tmp/x',
      databaseUrl: 'file:/tmp/x/portal.sqlite',
    });
    expect(c.schedulerUrl.href).toBe('http://127.0.0.1:7430/');
    expect(c.bankUrl.href).toBe('http://127.0.0.1:7431/');
    expect(c.secureCookies).toBe(false);
    expect(c.passwordScryptLog2N).toBe(16);
  });

  it('reads every variable', () => {
    const c = loadPortalConfig({
      DCP_EMU_DATA_DIR: '/d',
      DCP_EMU_PORTAL_PORT: '8000',
      DCP_EMU_SCHEDULER_URL: 'http://sched.local:9000/',
      DCP_EMU_BANK_URL: 'https://bank.local/',
      DCP_EMU_DATABASE_URL: 'file:/d/x.sqlite',
      DCP_EMU_PORTAL_SECURE_COOKIES: 'yes',
      DCP_EMU_PORTAL_PASSWORD_LOG2N: '12',
    });
    expect(c).toMatchObject({
      port: 8000,
      databaseUrl: 'file:/d/x.sqlite',
      secureCookies: true,
      passwordScryptLog2N: 12,
    });
    expect(c.schedulerUrl.host).toBe('sched.local:9000');
    expect(c.bankUrl.protocol).toBe('https:');
    const own = { DCP_EMU_DATA_DIR: '/d', DCP_EMU_DATABASE_URL: 'postgresql://u@h/db' };
    expect(loadPortalConfig(own).databaseUrl).toBe('postgresql://u@h/db?schema=portal');
    expect(loadPortalConfig({ ...own, DCP_EMU_PORTAL_DATABASE_URL: 'file:/p.sqlite' }).databaseUrl).toBe(
      'file:/p.sqlite',
    );
  });

  it('reports every bad variable at once', () => {
    try {
      loadPortalConfig({
        DCP_EMU_PORTAL_PORT: '70000',
        DCP_EMU_BANK_URL: 'ftp://bank',
        DCP_EMU_PORTAL_PASSWORD_LOG2N: '4',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toContain('DCP_EMU_PORTAL_PORT');
      expect(problems).toContain('DCP_EMU_BANK_URL');
      expect(problems).toContain('DCP_EMU_PORTAL_PASSWORD_LOG2N');
    }
  });
});
