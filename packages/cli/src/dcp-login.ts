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

/**
 * `DCP_CONFIG_EVALUATOR` pointing dcp-client at the stack's evaluator (dcp-client reads
 * `DCP_CONFIG_<KEY>={…}` into `dcpConfig.<key>`; its default is localhost:9000), so `dcp/worker`
 * programs such as examples/nodejs/simple-worker.js find one. A value already set is kept.
 */
export function evaluatorEnv(info: { evaluator?: string }): Record<string, string> {
  if (!info.evaluator || process.env.DCP_CONFIG_EVALUATOR) return {};
  const href = JSON.stringify(new URL(info.evaluator).href);
  return { DCP_CONFIG_EVALUATOR: `{ location: new URL(${href}), listen: new URL(${href}) }` };
}
