export { type BusyLoad, startBusyLoad } from './busy.js';
export { errorLines, errorLinesOfFile, type LogLine, PINO_ERROR } from './logs.js';
export { freePortBase, portOpen } from './ports.js';
export { ancestors, ensurePeerAccess, PeerAccessError, type PeerAccessPorts } from './peer-access.js';
export {
  clockTicks,
  cmdline,
  descendants,
  parseStat,
  peakRssKb,
  type ProcStat,
  processTable,
  readStat,
  statusKb,
  treeCpuMs,
} from './procfs.js';
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
