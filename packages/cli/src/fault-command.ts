import { readFileSync } from 'node:fs';
import type { FaultCommand } from './fault-args';
import { addFault, clearFaults, describeFault, type FaultsTarget, listFaults } from './faults-client';
import { adminTokenFile, runningStack } from './stack-file';

/** `dcp-emu fault add|list|clear`: the running stack's fault injection (its scheduler's /admin/faults). */
export async function faultCommand(c: FaultCommand): Promise<number> {
  const info = runningStack(c.dataDir);
  if (typeof info === 'string') {
    process.stderr.write(`dcp-emu: ${info}\n`);
    return 1;
  }
  const schedulerUrl = info.urls.scheduler;
  if (!schedulerUrl) {
    process.stderr.write('dcp-emu: the stack has no scheduler\n');
    return 1;
  }
  const target: FaultsTarget = {
    schedulerUrl,
    adminToken: readFileSync(adminTokenFile(info.dataDir), 'utf8').trim(),
  };
  try {
    switch (c.action) {
      case 'add': {
        const f = await addFault(target, c.spec);
        process.stdout.write(`added ${describeFault(f)}\n`);
        return 0;
      }
      case 'list': {
        const list = await listFaults(target);
        if (c.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        else if (!list.length) process.stdout.write('no faults\n');
        else for (const f of list) process.stdout.write(`${describeFault(f)}\n`);
        return 0;
      }
      case 'clear': {
        const n = await clearFaults(target, c.id);
        process.stdout.write(`cleared ${n} fault${n === 1 ? '' : 's'}\n`);
        return 0;
      }
    }
  } catch (e) {
    process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
    return 1;
  }
}
