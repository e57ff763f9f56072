import { describe, expect, it } from 'vitest';
import { renderDashboard } from './dashboard';

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('dashboard rendering', () => {
  const model = {
    title: 'dcp-emu-worker',
    scheduler: 'http://127.0.0.1:7430/',
    paymentAddress: '0xabc',
    maxSandboxes: 2,
    openSandboxes: 2,
    slices: [
      {
        jobId: 'j',
        jobName: 'pi digits',
        sliceNumber: 3,
        state: 'working' as const,
        progress: 50,
        sandboxId: 7,
        startedAt: 1_000,
      },
      {
        jobId: 'j',
        jobName: 'pi digits',
        sliceNumber: 4,
        state: 'queued' as const,
        progress: undefined,
        sandboxId: undefined,
        startedAt: undefined,
      },
    ],
    earned: 1.5,
    completed: 6,
    log: ['12:00:00 * pi digits slice 2 completed, +0.250000 DCC'],
    now: 3_500,
  };

  it('shows sandboxes, slices with progress, DCC earned and the log, fitted to the terminal', () => {
    const text = plain(renderDashboard(model, 100, 24));
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(text).toContain('DCC earned: 1.500000');
    expect(text).toContain('slices completed: 6');
    expect(text).toContain('2 open, 1/2 working');
    expect(text).toMatch(/7\s+pi digits\s+3\s+working\s+\[##########\.{10}\] 2\.5s/);
    expect(text).toMatch(/-\s+pi digits\s+4\s+queued\s+\[\?{20}\]/);
    expect(text).toContain('slice 2 completed');
  });

  it('says when there is no work', () => {
    expect(plain(renderDashboard({ ...model, slices: [] }, 80, 24))).toContain('waiting for work');
  });
});
