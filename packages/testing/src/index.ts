export { freePortBase, portOpen } from './ports.js';
export { freePort, startPostgres, type PgServer } from './postgres.js';
export { freshDatabase, PROVIDERS, type TestDatabase, type TestProvider } from './databases.js';
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
} from './stack.js';
