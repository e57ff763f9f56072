export { defaultDataDir } from './data-dir';
export {
  ConfigError,
  commonEnv,
  commonSettings,
  flag,
  loadConfig,
  logLevel,
  port,
  type LogLevel,
} from './config';
export { createLogger, type Logger } from './logger';
export { listen, type Listening } from './listen';
export {
  makePrivate,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  preparePrivateDataDir,
  usePrivateUmask,
} from './private-files';
export { describePortHolder, type PortHolder, portHolder } from './port-holder';
