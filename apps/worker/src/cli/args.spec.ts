import { describe, expect, it } from 'vitest';
import { eh1 } from '../supervisor';
import { parseArgs, sandboxCount, UsageError } from './args';

describe('dcp-emu-worker flags', () => {
  it("takes dcp-worker's flags", () => {
    const o = parseArgs(
      [
        '--dcp-scheduler',
        'http://127.0.0.1:9999/',
        '-o',
        'console',
        '-c',
        '4',
        '-m',
        '3',
        '-H',
        '10.0.0.1',
        '-p',
        '9100',
        '--paymentAddress',
        '0x03E62F085e929A6efDf738Ca5FB7209683c8f44d',
        '-g',
        'grp,secret',
        '-g',
        `other,${eh1('x')}`,
        '-a',
        'http://data.example',
        '-j',
        'job1',
        '--job-id=job2',
        '--leavePublicGroup',
        '--minimumWage',
        '0.5,0,0.1',
        '--external-evaluator',
      ],
      {},
      false,
    );
    expect(o).toMatchObject({
      schedulerUrl: 'http://127.0.0.1:9999/',
      output: 'console',
      cores: 4,
      maxSandboxes: 3,
      evaluatorHost: '10.0.0.1',
      evaluatorPort: 9100,
      startEvaluator: false,
      paymentAddress: '0x03E62F085e929A6efDf738Ca5FB7209683c8f44d',
      computeGroups: [
        { joinKey: 'grp', joinSecret: 'secret' },
        { joinKey: 'other', joinHash: eh1('x') },
      ],
      leavePublicGroup: true,
      allowOrigins: ['http://data.example'],
      jobIds: ['job1', 'job2'],
      minimumWage: { CPU: 0.5, GPU: 0, in: 0.1, out: 0 },
    });
    expect(sandboxCount(o)).toBe(3);
  });

  it('defaults: scheduler from the environment, dashboard only on a TTY, our own evaluator', () => {
    const o = parseArgs([], { DCP_SCHEDULER_LOCATION: 'http://sched:1/' }, true);
    expect(o).toMatchObject({
      schedulerUrl: 'http://sched:1/',
      output: 'dashboard',
      startEvaluator: true,
      evaluatorPort: 9000,
    });
    expect(parseArgs([], { DCP_EMU_SCHEDULER_URL: 'http://s:2/' }, false)).toMatchObject({
      schedulerUrl: 'http://s:2/',
      output: 'console',
    });
    expect(sandboxCount({ cores: 8, utilization: 0.5, maxSandboxes: undefined })).toBe(4);
  });

  it('refuses what it cannot honour', () => {
    expect(() => parseArgs(['--bogus'], {}, false)).toThrow(UsageError);
    expect(() => parseArgs(['-o', 'event-log'], {}, false)).toThrow(/console, dashboard/);
    expect(() => parseArgs(['--paymentAddress', 'nope'], {}, false)).toThrow(/0x address/);
    expect(() => parseArgs(['-g', 'nocomma'], {}, false)).toThrow(/joinKey,joinSecret/);
    expect(() => parseArgs(['-m'], {}, false)).toThrow(/needs a value/);
    expect(() => parseArgs(['-c', '0'], {}, false)).toThrow(/positive/);
  });
});
