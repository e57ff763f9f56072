'use strict';
/**
 * Preloaded (`node --require`) by `dcp-emu run` and `dcp-emu exec` into the programs they start.
 *
 * dcp-client 5.6.1's in-process worker — `job.localExec()`, and `dcp/worker` programs such as
 * dcp-client's examples/nodejs/simple-worker.js — signs with `identity.get()`, which throws "cannot get
 * identity with no session" unless the program first called `require('dcp/identity').login()`. Nothing
 * in dcp-client calls it, and nothing a scheduler serves can (the session lives in the client's memory;
 * the remote config cannot touch it), so against DCP itself those programs crash the same way.
 *
 * This file does for an unmodified program what dcp-client documents a Node program must do: once
 * dcp-client's `init()` (or `initSync()`) has finished, and if no identity session exists yet, it calls
 * dcp-client's own `identity.login()`, which reads `<DCP_RESOURCE_DIR>/id.keystore` (the emulator's dev
 * identity, the same key every connection of the program already signs with). It changes nothing
 * else, calls no private API, and does nothing in programs that do not load dcp-client or that have
 * a session already (dcp-client 4.x has no such need: its `identity.check` is absent or true).
 */
const Module = require('node:module');

const wrapped = new WeakSet();
const originalLoad = Module._load;

/** dcp-client's package exports (its index.js): `init`, `initSync` and `createConfigFragments`. */
function isDcpClient(exp) {
  return (
    exp !== null &&
    typeof exp === 'object' &&
    typeof exp.init === 'function' &&
    typeof exp.initSync === 'function' &&
    typeof exp.createConfigFragments === 'function'
  );
}

async function login() {
  let identity;
  try {
    identity = require('dcp/identity');
  } catch {
    return; // not a dcp-client that has an identity module
  }
  if (typeof identity.check !== 'function' || typeof identity.login !== 'function') return;
  if (identity.check()) return;
  try {
    await identity.login();
  } catch (error) {
    process.emitWarning(`dcp-emu: could not log in with the default identity: ${error?.message ?? error}`);
  }
}

function wrap(exp) {
  wrapped.add(exp);
  const init = exp.init;
  const initSync = exp.initSync;
  exp.init = async function dcpEmu$init(...args) {
    const result = await init.apply(this, args);
    await login();
    return result;
  };
  exp.initSync = function dcpEmu$initSync(...args) {
    const result = initSync.apply(this, args);
    // login() is asynchronous (the keystore is decrypted): it is done long before a job is accepted
    // or a worker has fetched its first task, which is when the session is first used.
    void login();
    return result;
  };
}

Module._load = function dcpEmu$load(request, parent, isMain) {
  const exp = originalLoad.call(this, request, parent, isMain);
  if (!wrapped.has(exp) && isDcpClient(exp)) wrap(exp);
  return exp;
};
