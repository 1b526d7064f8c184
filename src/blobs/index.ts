/** Large payloads outside the history: the claim-check codec, its stores, their settings, and their collection. */
export { BLOB_REF_ENCODING, ClaimCheckCodec, isBlobRef, NoBlobStoreCodec, readBlobRef, type BlobRef } from './claim-check.js';
export { blobSettingsFromEnv, DEFAULT_BLOB_THRESHOLD, openBlobStore, type BlobSettings } from './config.js';
export { DiskBlobStore } from './disk-store.js';
export { collectBlobs, DEFAULT_GC_GRACE_MS, referencesIn, type CollectOptions, type CollectReport } from './gc.js';
export { S3BlobStore } from './s3-store.js';
export { BlobError, type BlobEntry, type BlobStore } from './store.js';
