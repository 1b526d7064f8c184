/** Payload encryption: the codec, its keys, and the data converter the worker, the client and the CLI share. */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { ClaimCheckCodec, NoBlobStoreCodec } from '../blobs/claim-check.js';
import type { BlobSettings } from '../blobs/config.js';
import { BlobError } from '../blobs/store.js';
import { DecryptError, ENCRYPTED_ENCODING, EncryptionCodec } from './encryption.js';
import type { EncryptionKeys } from './keys.js';

export { COMPRESS_ABOVE_BYTES, DecryptError, ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from './encryption.js';
export { encryptionKeysFromEnv, parseEncryptionKeys, type EncryptionKey, type EncryptionKeys } from './keys.js';

/**
 * The data converter for these keys and this blob store: payloads are encrypted (when there are keys), then those over
 * the store's threshold are stored outside the history (when there is a store). Without keys nothing is encrypted,
 * and an encrypted payload (a run another process encrypted) fails with a DecryptError that says which setting reads
 * it, not the SDK's "unknown encoding"; without a store, a blob reference fails alike.
 */
export function dataConverterFor(keys: EncryptionKeys | undefined, blobs?: BlobSettings): DataConverter {
  return { payloadCodecs: payloadCodecsFor(keys, blobs) };
}

/** The codecs of dataConverterFor, in Temporal's order: encode runs them first to last, decode last to first. */
export function payloadCodecsFor(keys: EncryptionKeys | undefined, blobs?: BlobSettings): PayloadCodec[] {
  return [
    keys ? new EncryptionCodec(keys) : new NoKeysCodec(),
    blobs ? new ClaimCheckCodec(blobs.store, blobs.thresholdBytes) : new NoBlobStoreCodec(),
  ];
}

/**
 * The codecs of payloadCodecsFor as one codec that decodes each payload on its own, and reads one this process cannot
 * decrypt or fetch (another key's, no key, a blob missing here) as undefined. For listing runs: the memos of every run
 * in the namespace are decoded, and one run's must not hide all the others.
 */
export class ForgivingCodec implements PayloadCodec {
  constructor(private readonly codecs: readonly PayloadCodec[]) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    for (const codec of this.codecs) payloads = await codec.encode(payloads);
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        try {
          let one = [payload];
          for (const codec of [...this.codecs].reverse()) one = await codec.decode(one);
          return one[0]!;
        } catch (e) {
          if (e instanceof DecryptError || e instanceof BlobError) return UNREADABLE;
          throw e;
        }
      }),
    );
  }
}

/** A payload the SDK's converter reads as undefined. */
const UNREADABLE: Payload = { metadata: { encoding: new TextEncoder().encode('binary/null') } };

class NoKeysCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    if (payloads.some((p) => new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array()) === ENCRYPTED_ENCODING)) {
      throw new DecryptError(
        'this run is encrypted, and this process has no key: set TRELLIS_ENCRYPTION_KEYS (or TRELLIS_ENCRYPTION_KEY_FILE) as the worker has it',
      );
    }
    return payloads;
  }
}
