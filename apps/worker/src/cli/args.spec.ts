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

  it('--evaluator-manager: thresholds from flags over the config file; not with --external-evaluator', () => {
    expect(parseArgs([], {}, false).evaluatorManager).toBeUndefined();
    const o = parseArgs(['--max-load', '1.5', '--loadavg-file', '/tmp/la'], {}, false, {
      evaluatorManager: { maxLoad: 4, idleTimeout: 10, idlePoll: 0.5, disable: ['session'] },
    });
    expect(o.evaluatorManager).toEqual({
      maxLoad: 1.5,
      loadavgType: 'short',
      loadavgFile: '/tmp/la',
      idleTimeoutMs: 10_000,
      pollMs: 500,
      disabled: ['session'],
      killOnBusy: true,
      pts: '/dev/pts',
    });
    expect(() => parseArgs(['--evaluator-manager', '--external-evaluator'], {}, false)).toThrow(
      /dcp-emu-evaluator-manager in front of it/,
    );
  });

  it('output flags: syslog and logfile settings, pid file, report interval, --showConfig with or without a node', () => {
    const o = parseArgs(
      [
        '-o',
        'syslog',
        '--syslogAddress',
        'logs',
        '--syslogPort',
        '5514',
        '--syslogFacility',
        'daemon',
        '--syslogFormat',
        'rfc3164',
        '-f',
        '/run/w.pid',
        '--reportInterval',
        '5',
        '--showConfig',
      ],
      {},
      false,
    );
    expect(o).toMatchObject({
      output: 'syslog',
      syslog: { address: 'logs', port: 5514, facility: 'daemon', format: 'rfc3164' },
      pidFile: '/run/w.pid',
      reportIntervalS: 5,
      showConfig: '',
    });
    expect(
      parseArgs(['--showConfig', 'worker.cores', '-o', 'logfile', '--logfile', 'x.log'], {}, false),
    ).toMatchObject({
      showConfig: 'worker.cores',
      output: 'logfile',
      logfile: 'x.log',
    });
    expect(() => parseArgs(['--syslogFacility', 'local9'], {}, false)).toThrow(/--syslogFacility/);
    expect(() => parseArgs(['--syslogTransport', 'tcp'], {}, false)).toThrow(/only udp/);
    expect(() => parseArgs(['--reportInterval', '0'], {}, false)).toThrow(/positive/);
  });
});
