import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Identity, writeClientKeystores } from '@dcp-emu/protocol/node';
import type { DevAccount } from './dev-accounts';

// the accounts themselves need only ethers (dev-accounts.ts: the programmatic API loads it alone)
export { DEV_MNEMONIC, type DevAccount, devAccounts } from './dev-accounts';

/** dcp-emu's own resource directory, used instead of `~/.dcp` (`DCP_RESOURCE_DIR`). */
export function resourceDirOf(dataDir: string): string {
  return join(dataDir, 'resources');
}

/**
 * Writes `id.keystore` and `default.keystore` (empty passphrase: dcp-client loads them without asking)
 * for `account` into `dir`, unless both are already there.
 */
export function writeDevKeystores(dir: string, account: DevAccount): boolean {
  if (existsSync(join(dir, 'id.keystore')) && existsSync(join(dir, 'default.keystore'))) return false;
  const identity = Identity.fromPrivateKey(account.privateKey);
  writeClientKeystores(dir, { identity, account: identity });
  return true;
}
