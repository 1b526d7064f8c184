/**
 * The claim check: a PayloadCodec that moves every payload over a threshold into a blob store and leaves a small
 * reference in its place, so a run's history holds the reference (the blob's SHA-256, its size, the key it was
 * encrypted with) rather than megabytes. It runs after encryption on the way out (the blob holds the encrypted
 * payload) and first on the way in; the workflow sees the whole value, so `steps.X.field` of a stored output reads
 * as any other. Blobs are checked against their hash when read.
 */
import { createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: its default export is the namespace (named imports fail under Node's ESM loader).
import proto from '@temporalio/proto';
import { KEY_ID_METADATA } from '../codec/encryption.js';
import { BlobError, isBlobName, type BlobStore } from './store.js';

/** The reference's encoding: the history shows it, with its JSON data, in the clear. */
export const BLOB_REF_ENCODING = 'trellis/blob-ref';

/** What a reference says of its blob. */
export interface BlobRef {
  sha256: string;
  /** The blob's size in bytes (the encoded payload, after compression and encryption). */
  size: number;
  /** The encryption key the payload in the blob was encrypted with; absent when it was not. */
  keyId?: string;
}

const PayloadProto = proto.temporal.api.common.v1.Payload;
const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** Whether `payload` is a blob reference. */
export function isBlobRef(payload: Payload): boolean {
  return read(payload.metadata?.encoding) === BLOB_REF_ENCODING;
}

/** The reference a payload holds; throws BlobError BLOB_CORRUPT for one that is not well formed. */
export function readBlobRef(payload: Payload): BlobRef {
  let ref: unknown;
  try {
    ref = JSON.parse(read(payload.data) ?? '');
  } catch {
    ref = undefined;
  }
  const r = ref as Partial<BlobRef> | undefined;
  if (!r || typeof r.sha256 !== 'string' || !isBlobName(r.sha256) || !Number.isSafeInteger(r.size)) {
    throw new BlobError('BLOB_CORRUPT', `a blob reference in this run is not well formed: ${JSON.stringify(read(payload.data)?.slice(0, 200))}`);
  }
  return { sha256: r.sha256, size: r.size!, ...(typeof r.keyId === 'string' && { keyId: r.keyId }) };
}

export class ClaimCheckCodec implements PayloadCodec {
  /**
   * @param store where blobs go.
   * @param thresholdBytes payloads larger than this (as encoded) are stored; smaller ones stay in the history.
   */
  constructor(
    readonly store: BlobStore,
    readonly thresholdBytes: number,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => this.check(p)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((p) => (isBlobRef(p) ? this.claim(readBlobRef(p)) : p)));
  }

  private async check(payload: Payload): Promise<Payload> {
    const bytes = PayloadProto.encode(payload).finish();
    if (bytes.length <= this.thresholdBytes) return payload;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await this.store.put(sha256, bytes);
    const keyId = read(payload.metadata?.[KEY_ID_METADATA]);
    const ref: BlobRef = { sha256, size: bytes.length, ...(keyId !== undefined && { keyId }) };
    return { metadata: { encoding: text(BLOB_REF_ENCODING) }, data: text(JSON.stringify(ref)) };
  }

  /** The payload a reference stands for, read back and checked against its hash. */
  async claim(ref: BlobRef): Promise<Payload> {
    const bytes = await this.store.get(ref.sha256);
    if (!bytes) {
      throw new BlobError(
        'BLOB_MISSING',
        `a payload of this run (${ref.size.toLocaleString('en-US')} bytes, blob ${ref.sha256}) is not in the blob store ${this.store.location}: ` +
          'every worker, client and `trellis serve` must share one TRELLIS_BLOB_STORE (the blob may also have been collected)',
      );
    }
    if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) {
      throw new BlobError('BLOB_CORRUPT', `the blob ${ref.sha256} in ${this.store.location} does not match its hash: it was changed or damaged`);
    }
    return PayloadProto.decode(bytes);
  }
}

/** For a process with no blob store: a reference fails with the setting that reads it, not the SDK's "unknown encoding". */
export class NoBlobStoreCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    if (payloads.some(isBlobRef)) {
      throw new BlobError(
        'BLOB_MISSING',
        'this run keeps large payloads in a blob store, and this process has none (TRELLIS_BLOB_STORE is "none"): set it as the worker has it',
      );
    }
    return payloads;
  }
}
