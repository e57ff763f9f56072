import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where dcp-emu keeps its state (database, identity keystore, dev keystores, logs).
 * `DCP_EMU_DATA_DIR` wins; otherwise the platform's per-user data directory.
 * Never `~/.dcp`: that belongs to the user's real DCP keys.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.DCP_EMU_DATA_DIR) return env.DCP_EMU_DATA_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'dcp-emu');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'dcp-emu');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'dcp-emu');
}
