import { parseDuration } from '@dcp-emu/protocol';
import { runningStack } from './stack-file';
import { type StackTime, timeControl } from './time-client';

import type { TimeAction } from './time-args';

function offset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.round(Math.abs(ms) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  parts.push(`${rest}s`);
  return `${sign}${parts.join('')}`;
}

function render(t: StackTime, fired: boolean): string {
  const lines = Object.entries(t.services).map(
    ([service, s]) =>
      `${service.padEnd(10)} ${s.iso}  ${(s.frozen ? 'frozen' : 'running').padEnd(7)}  ${offset(s.offsetMs).padStart(9)} from real time  ${s.timers} timers${fired && s.fired !== undefined ? `, ${s.fired} fired` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `dcp-emu time freeze | advance 10m | resume | status [--json]`: virtual time of every clocked service. */
export async function timeCommand(
  dataDir: string,
  action: TimeAction,
  by: string | undefined,
  json: boolean,
): Promise<number> {
  const info = runningStack(dataDir);
  if (typeof info === 'string') {
    process.stderr.write(`dcp-emu: ${info}\n`);
    return 1;
  }
  if (action === 'advance')
    try {
      parseDuration(by ?? '');
    } catch (e) {
      process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
      return 2;
    }
  const time = timeControl(info);
  try {
    const t =
      action === 'freeze'
        ? await time.freeze()
        : action === 'advance'
          ? await time.advance(by ?? '')
          : action === 'resume'
            ? await time.resume()
            : await time.status();
    process.stdout.write(json ? `${JSON.stringify(t, null, 2)}\n` : render(t, action === 'advance'));
    return 0;
  } catch (e) {
    process.stderr.write(`dcp-emu: time ${action}: ${(e as Error).message}\n`);
    return 1;
  }
}
