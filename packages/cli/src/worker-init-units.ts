/**
 * The files `worker init` writes: the systemd units (dcp-emu-evaluator, dcp-emu-evaluator-manager,
 * dcp-emu-worker, the unmodified dcp-worker) and each worker's config file.
 */
import { join, resolve } from 'node:path';
import type { WorkerInitOptions } from './worker-init-args';

/** The repository / install root (this file is packages/cli/{src,dist}/worker-init-units.*). */
export const ROOT = resolve(__dirname, '..', '..', '..');

export interface UnitPaths {
  node: string;
  evaluatorBin: string;
  managerBin: string;
  workerBin: string;
  dcpWorkerBin: string;
}

export function defaultPaths(dcpWorkerBin: string): UnitPaths {
  const bin = (name: string) => join(ROOT, 'apps', 'worker', 'bin', name);
  return {
    node: process.execPath,
    evaluatorBin: bin('dcp-emu-evaluator.js'),
    managerBin: bin('dcp-emu-evaluator-manager.js'),
    workerBin: bin('dcp-emu-worker.js'),
    dcpWorkerBin,
  };
}

/** systemd quoting of one ExecStart word. */
function q(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\$])/g, '\\$1')}"`;
}

function unit(description: string, user: string, home: string, exec: string[], extra: string[] = []): string {
  return `# written by dcp-emu worker init
[Unit]
Description=${description}
Wants=network-online.target
After=network-online.target
${extra.filter((l) => /^(After|Wants|Requires|BindsTo|PartOf)=/.test(l)).join('\n')}

[Service]
Type=simple
User=${user}
WorkingDirectory=${home}
Environment=HOME=${home}
Environment=NODE_ENV=production
${extra.filter((l) => !/^(After|Wants|Requires|BindsTo|PartOf)=/.test(l)).join('\n')}
ExecStart=${exec.map(q).join(' ')}
Restart=always
RestartSec=5
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
`.replace(/\n{3,}/g, '\n\n');
}

/** The four units, by file name. */
export function units(o: WorkerInitOptions, home: string, paths: UnitPaths): Record<string, string> {
  const inner = o.evaluatorPort + 1;
  return {
    'dcp-emu-evaluator.service': unit('dcp-emu evaluator (V8 sandboxes for DCP workers)', o.user, home, [
      paths.node,
      paths.evaluatorBin,
      '-p',
      String(inner),
      '-H',
      '127.0.0.1',
    ]),
    'dcp-emu-evaluator-manager.service': unit(
      'dcp-emu evaluator manager (pauses DCP work under load or an active terminal)',
      o.user,
      home,
      [paths.node, paths.managerBin, '-p', String(o.evaluatorPort), '--evaluator', `127.0.0.1:${inner}`],
      ['After=dcp-emu-evaluator.service', 'Requires=dcp-emu-evaluator.service'],
    ),
    'dcp-emu-worker.service': unit(
      `dcp-emu worker for ${o.scheduler.href}`,
      o.user,
      home,
      [
        paths.node,
        paths.workerBin,
        '--external-evaluator',
        '-o',
        'console',
        '-H',
        '127.0.0.1',
        '-p',
        String(o.evaluatorPort),
      ],
      [
        'After=dcp-emu-evaluator-manager.service',
        'Wants=dcp-emu-evaluator-manager.service',
        // graceful stop as dcp-worker: SIGINT finishes and submits running slices
        'KillSignal=SIGINT',
        'TimeoutStopSec=90',
      ],
    ),
    'dcp-worker.service': unit(
      `unmodified dcp-worker for ${o.scheduler.href}`,
      o.user,
      home,
      [paths.node, paths.dcpWorkerBin, '-o', 'console', '-H', '127.0.0.1', '-p', String(o.evaluatorPort)],
      [
        'After=dcp-emu-evaluator-manager.service',
        'Wants=dcp-emu-evaluator-manager.service',
        `Environment=DCP_SCHEDULER_LOCATION=${o.scheduler.href}`,
        'KillSignal=SIGINT',
        'TimeoutStopSec=90',
      ],
    ),
  };
}

/** dcp-emu-worker's config file (also read by the evaluator manager). */
export function emuWorkerConfig(o: WorkerInitOptions, paymentAddress: string): string {
  return `// written by dcp-emu worker init; precedence: defaults < this file < environment < flags
{
  scheduler: { location: new URL(${JSON.stringify(o.scheduler.href)}) },
  evaluator: { location: new URL('dcpsaw://127.0.0.1:${o.evaluatorPort}/') },
  worker: {
    paymentAddress: ${JSON.stringify(paymentAddress)},
    cores: { cpu: ${o.cores} },
  },
  evaluatorManager: {
    listen: ${o.evaluatorPort},
    evaluator: '127.0.0.1:${o.evaluatorPort + 1}',
${o.maxLoad > 0 ? `    maxLoad: ${o.maxLoad},\n` : ''}    loadavgType: 'short',
    idleTimeout: 30,
  },
}
`;
}

/** The unmodified dcp-worker's `~/.dcp/dcp-worker/dcp-config.js` (merged over its etc/dcp-worker-config.js). */
export function dcpWorkerConfig(o: WorkerInitOptions, paymentAddress: string): string {
  return `// written by dcp-emu worker init
{
  scheduler: { location: new URL(${JSON.stringify(o.scheduler.href)}) },
  worker: {
    paymentAddress: ${JSON.stringify(paymentAddress)},
    cores: { cpu: ${o.cores} },
  },
}
`;
}
