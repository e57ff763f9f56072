import { join } from 'node:path';

/**
 * `preload/dcp-login.cjs`: logs an unmodified dcp-client 5.x program in with its default identity once
 * `init()` has finished, as dcp-client documents a Node program must do before `job.localExec()` or a
 * `dcp/worker` can sign anything (see that file). `dcp-emu run` and `dcp-emu exec` preload it.
 */
export const DCP_LOGIN_PRELOAD = join(__dirname, '..', 'preload', 'dcp-login.cjs');

/** `NODE_OPTIONS` with the preload added (kept once; the value quoted as Node reads NODE_OPTIONS). */
export function nodeOptionsWithLogin(current: string | undefined): string {
  const flag = `--require "${DCP_LOGIN_PRELOAD.replace(/["\\]/g, '\\$&')}"`;
  if (current?.includes(DCP_LOGIN_PRELOAD)) return current;
  return current ? `${current} ${flag}` : flag;
}
