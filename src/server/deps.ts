/** What the HTTP server needs from its process: the client, the auth settings, where it is reached, and its log. */
import type { Logger } from 'pino';
import type { TrellisClient } from '../client/client.js';
import type { BlobSettings } from '../blobs/config.js';
import type { EncryptionKeys } from '../codec/keys.js';
import type { ToolCatalog } from '../spec/catalog.js';
import type { AuthConfig } from './auth.js';

/** The server's dependencies, made once by `trellis serve` (or a test) and shared by the API and the inbox. */
export interface ServerDeps {
  /** The typed client every route goes through; it signs decisions when it holds TRELLIS_DECISION_KEY. */
  client: TrellisClient;
  auth: AuthConfig;
  /** The base URL people and services reach the server at, for links (TRELLIS_PUBLIC_URL, else where it listens). */
  publicUrl: string;
  /** The Temporal UI, for links to a run (TRELLIS_TEMPORAL_UI_URL). */
  temporalUiUrl?: string;
  /** The payload keys (TRELLIS_ENCRYPTION_KEYS) the codec endpoint decodes with; the client has them too. */
  encryption?: EncryptionKeys;
  /** The blob store (TRELLIS_BLOB_STORE) the codec endpoint reads stored payloads from; the client has it too. */
  blobs?: BlobSettings;
  /** TRELLIS_DECISION_KEY, for what the server signs itself (approval links). */
  decisionKey?: string;
  /** With it, a started spec is checked against the tools too (TRELLIS_TOOLS), as `trellis run --tools` does. */
  tools?: ToolCatalog;
  /** The saved specs that `specName` names (TRELLIS_SPECS, default ./specs). */
  specsDir?: string;
  /** Where the server logs (unexpected errors, shutdown). Default: pino, named trellis-serve. */
  logger?: Logger;
  /** Aborted when the server closes: open event streams and long polls end then, so it closes at once. */
  signal?: AbortSignal;
}
