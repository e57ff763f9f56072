import { resolve } from 'node:path';
import type { SliceView } from '../supervisor';
import { type CliOptions, sandboxCount } from './args';

/**
 * The merged configuration in dcp-worker's dcpConfig shape (what `--showConfig` prints): every
 * layer (defaults, config files, environment, flags) already applied. Join secrets are not shown.
 */
export function effectiveConfig(o: CliOptions, files: string[] = []): Record<string, unknown> {
  return {
    scheduler: { location: o.schedulerUrl },
    evaluator: {
      location: `dcpsaw://${o.evaluatorHost}:${o.evaluatorPort}/`,
      start: o.startEvaluator,
    },
    worker: {
      cores: { cpu: o.cores },
      utilization: { cpu: o.utilization },
      maxSandboxes: sandboxCount(o),
      paymentAddress: o.paymentAddress ?? null,
      allowOrigins: { any: o.allowOrigins },
      strictOrigins: o.strictOrigins,
      minimumWage: o.minimumWage,
      computeGroups: o.computeGroups.map((g) =>
        'joinHash' in g && g.joinHash
          ? { joinKey: g.joinKey, joinHash: g.joinHash }
          : { joinKey: g.joinKey, joinSecret: '***' },
      ),
      leavePublicGroup: o.leavePublicGroup,
      jobAddresses: o.jobIds,
      watchdogInterval: o.watchdogIntervalMs ?? null,
      cleanupTimeout: o.cleanupTimeoutMs / 1000,
      pidFile: o.pidFile ? resolve(o.pidFile) : null,
      reportInterval: o.reportIntervalS ?? null,
      output: {
        mode: o.output,
        ...(o.output === 'logfile' ? { logfile: resolve(o.logfile) } : {}),
        ...(o.output === 'syslog' ? { syslog: { ...o.syslog, transport: 'udp' } } : {}),
      },
    },
    ...(o.evaluatorManager
      ? {
          evaluatorManager: {
            maxLoad: o.evaluatorManager.maxLoad ?? null,
            loadavgType: o.evaluatorManager.loadavgType,
            idleTimeout: o.evaluatorManager.idleTimeoutMs / 1000,
            idlePoll: o.evaluatorManager.pollMs / 1000,
            disable: o.evaluatorManager.disabled,
            killOnBusy: o.evaluatorManager.killOnBusy,
            pts: o.evaluatorManager.pts,
          },
        }
      : {}),
    configFiles: files,
  };
}

/** `--showConfig worker.minimumWage`: the node at a dotted path (undefined when there is none). */
export function configNode(config: Record<string, unknown>, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.').filter(Boolean)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function interval(ms: number): string {
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms / 1000) % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** The status report of `--reportInterval`, in the spirit of dcp-worker's sliceReport(). */
export function statusReport(
  s: { slices(): SliceView[]; openSandboxes: number; earned: number; state: string },
  now: number = Date.now(),
): string {
  const slices = s.slices();
  const count = (state: string) => slices.filter((x) => x.state === state).length;
  const lines = [
    '='.repeat(78),
    new Date(now).toString(),
    `Worker: ${s.state}`,
    'Sandboxes:',
    `  open:        ${s.openSandboxes}`,
    'Progress:',
    ...slices
      .filter((x) => x.state === 'working')
      .map((x) => {
        const pct = typeof x.progress === 'number' ? `${x.progress.toFixed(0).padStart(2)}%` : 'ind';
        const t = x.startedAt === undefined ? 'new' : interval(now - x.startedAt);
        return ` ${String(x.sandboxId ?? '-').padStart(4)}: ${x.jobId} ${x.jobName.slice(0, 34).padEnd(34)} ${t} ${pct}`;
      }),
    'Slices:',
    `  working:     ${count('working')}`,
    `  queued:      ${count('queued')}`,
    `  submitting:  ${count('submitting')}`,
    `DCC earned:    ${s.earned.toFixed(6)}`,
    '='.repeat(78),
  ];
  return lines.join('\n');
}
