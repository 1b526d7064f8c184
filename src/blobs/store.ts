/**
 * Where payloads too large for a run's history are kept (the claim check): content-addressed blobs, named by the
 * SHA-256 of their bytes, so a write is idempotent and a read can be checked. A folder on disk (disk-store.ts) or
 * S3-compatible object storage (s3-store.ts).
 */
import { TrellisError } from '../errors.js';

/** One stored blob, as a listing gives it. */
export interface BlobEntry {
  /** SHA-256 of its bytes, 64 lowercase hex digits. */
  sha256: string;
  size: number;
  /** When it was written: `trellis blobs gc` keeps blobs younger than its grace period. */
  modified: Date;
}

export interface BlobStore {
  /** Where the blobs are, for messages: a folder's path, or `s3://bucket/prefix`. */
  readonly location: string;
  /** Stores `bytes` under their hash; a blob already there is left as it is. */
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  /** The blob's bytes, or undefined when there is none by that hash. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  /** Every blob in the store. */
  list(): AsyncIterable<BlobEntry>;
  /** Removes the blob (nothing happens when it is not there). */
  delete(sha256: string): Promise<void>;
}

/**
 * A blob that cannot be read or written. `code`: BLOB_MISSING (no blob by that hash: another store, or collected),
 * BLOB_CORRUPT (its bytes do not match its hash), BLOB_STORE_FAILED (the store refused or could not be reached).
 */
export class BlobError extends TrellisError {
  constructor(code: 'BLOB_MISSING' | 'BLOB_CORRUPT' | 'BLOB_STORE_FAILED', message: string) {
    super(code, message);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether `name` is a blob's name (so a stray file in the store is never read or deleted as one). */
export function isBlobName(name: string): boolean {
  return SHA256_HEX.test(name);
}
