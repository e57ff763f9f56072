/**
 * The scheduler e2e harness now lives in `@dcp-emu/testing` (packages/testing/src/stack.ts); this
 * module re-exports it for the suites that import it from here.
 */
export {
  cleanup,
  DCP_CLIENT,
  getJson,
  peerHome,
  Proc,
  ROOT,
  runClient,
  startBank,
  startDcpWorker,
  startEvaluator,
  startOurWorker,
  startScheduler,
  tempDir,
  unprivileged,
  writePeerFile,
} from '@dcp-emu/testing';
