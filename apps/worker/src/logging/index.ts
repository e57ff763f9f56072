export { LogfileSink } from './logfile';
export { jsonLineLevel, type LineOutput, type OutputSettings, openOutput } from './output';
export { PidFileError, writePidFile } from './pidfile';
export {
  FACILITIES,
  type Facility,
  formatSyslog,
  type LogLevel,
  SEVERITY,
  type SyslogFormat,
  type SyslogMessage,
  SyslogSink,
} from './syslog';
