import { join } from 'node:path';
import { ConfigError } from '@dcp-emu/service-kit';
import { describe, expect, it } from 'vitest';
import { loadBankConfig } from './config';
import { dcc } from './ledger/amount';

describe('loadBankConfig', () => {
  it('defaults: faucet on at 1000 DCC per mint, identity keystore in the data dir', () => {
    const c = loadBankConfig({ DCP_EMU_DATA_DIR: '/var/lib/dcp-emu' });
    expect(c.faucet).toEqual({ enabled: true, maxPerMint: dcc('1000') });
    expect(c.identityFile).toBe(join('/var/lib/dcp-emu', 'bank.keystore'));
    expect(c.port).toBe(7431);
  });

  it('DCP_EMU_BANK_FAUCET=off and DCP_EMU_BANK_FAUCET_MAX_DCC as exact decimal DCC', () => {
    const c = loadBankConfig({
      DCP_EMU_DATA_DIR: '/d',
      DCP_EMU_BANK_FAUCET: 'off',
      DCP_EMU_BANK_FAUCET_MAX_DCC: '2.5',
    });
    expect(c.faucet).toEqual({ enabled: false, maxPerMint: dcc('2.5') });
  });

  it('refuses bad values, naming each one', () => {
    const bad = () =>
      loadBankConfig({
        DCP_EMU_DATA_DIR: '/d',
        DCP_EMU_BANK_FAUCET: 'maybe',
        DCP_EMU_BANK_FAUCET_MAX_DCC: '-1',
      });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/DCP_EMU_BANK_FAUCET[\s\S]*DCP_EMU_BANK_FAUCET_MAX_DCC/);
  });
});
