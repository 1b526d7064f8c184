/**
 * The blob store's settings from the environment: TRELLIS_BLOB_STORE (unset: the folder `.trellis/blobs`; a path; an
 * `s3://bucket/prefix`; or `none`) and TRELLIS_BLOB_THRESHOLD (bytes; payloads over it are stored, default 128 KiB).
 * The worker, the client, the CLI and `trellis serve` read the same two, and must agree.
 */
import path from 'node:path';
import { ConfigError } from '../config.js';
import { trellisHome } from '../temporal/cli-locator.js';
import { DiskBlobStore } from './disk-store.js';
import { S3BlobStore } from './s3-store.js';
import type { BlobStore } from './store.js';

/** A store and the size above which payloads go to it. */
export interface BlobSettings {
  store: BlobStore;
  /** Payloads larger than this, as encoded, are stored outside the history. */
  thresholdBytes: number;
}

export const DEFAULT_BLOB_THRESHOLD = 128 * 1024;
/** A reference is about 150 bytes: below 1 KiB storing saves little, and above 1 MiB the history fills first. */
const THRESHOLD_RANGE = { min: 1024, max: 1024 * 1024 } as const;

/** The settings, or undefined for TRELLIS_BLOB_STORE=none. Throws ConfigError for a value it cannot use. */
export function blobSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BlobSettings | undefined {
  const where = (env.TRELLIS_BLOB_STORE ?? '').trim();
  if (where === 'none') return undefined;
  return { store: openBlobStore(where === '' ? path.join(trellisHome(cwd, env), 'blobs') : where, env, cwd), thresholdBytes: thresholdFromEnv(env) };
}

/** The store `where` names: `s3://bucket[/prefix]`, else a folder (relative to `cwd`). */
export function openBlobStore(where: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BlobStore {
  if (/^s3:/i.test(where)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(where);
    if (!m)
      throw new ConfigError(`TRELLIS_BLOB_STORE must be s3://BUCKET or s3://BUCKET/PREFIX with a valid bucket name, got ${JSON.stringify(where)}`);
    return new S3BlobStore(m[1]!, m[2] ?? '', env);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where)) {
    throw new ConfigError(`TRELLIS_BLOB_STORE is a folder, an s3:// URL or "none", got ${JSON.stringify(where)}`);
  }
  return new DiskBlobStore(path.resolve(cwd, where));
}

function thresholdFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.TRELLIS_BLOB_THRESHOLD;
  if (text === undefined || text === '') return DEFAULT_BLOB_THRESHOLD;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < THRESHOLD_RANGE.min || n > THRESHOLD_RANGE.max) {
    throw new ConfigError(
      `TRELLIS_BLOB_THRESHOLD must be a whole number of bytes from ${THRESHOLD_RANGE.min.toLocaleString('en-US')} to ` +
        `${THRESHOLD_RANGE.max.toLocaleString('en-US')}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}
