import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args';

describe('dcp-emu time arguments', () => {
  const env = { DCP_EMU_DATA_DIR: '/d' } as NodeJS.ProcessEnv;
  it('takes status (the default), freeze, resume and advance DURATION', () => {
    expect(parseCommand(['time'], env)).toEqual({
      kind: 'time',
      dataDir: '/d',
      action: 'status',
      json: false,
    });
    expect(parseCommand(['time', 'freeze', '--json'], env)).toMatchObject({ action: 'freeze', json: true });
    expect(parseCommand(['time', 'resume', '--data-dir', '/x'], env)).toMatchObject({
      action: 'resume',
      dataDir: '/x',
    });
    expect(parseCommand(['time', 'advance', '10m'], env)).toMatchObject({ action: 'advance', by: '10m' });
  });

  it('refuses a missing duration, extra words and unknown actions', () => {
    for (const bad of [
      ['advance'],
      ['advance', '1m', '2m'],
      ['freeze', 'now'],
      ['rewind', '1h'],
      ['status', '--x'],
    ])
      expect(() => parseCommand(['time', ...bad], env)).toThrow(UsageError);
  });
});
