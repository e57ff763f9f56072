import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

/** A dcp-emu service (scheduler or bank) from its TypeScript sources, on a free port, own data dir. */
export async function startService(
  name: 'scheduler' | 'bank',
  env: Record<string, string> = {},
): Promise<RunningService> {
  const dataDir = mkdtempSync(join(tmpdir(), `portal-spec-${name}-`));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(ROOT, `apps/${name}/src/main.ts`)],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.base.json'),
        DCP_EMU_DATA_DIR: dataDir,
        [`DCP_EMU_${name.toUpperCase()}_PORT`]: '0',
        DCP_EMU_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} not listening within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+\/)"[^\n]*"msg":"listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${code}):\n${out}`));
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
