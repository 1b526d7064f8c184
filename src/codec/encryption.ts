/**
 * A Temporal PayloadCodec that encrypts every payload with AES-256-GCM (node:crypto), so a run's history holds no
 * plaintext: inputs, outputs, prompts, tool args and results, signals, updates, query answers, memos and the UI's
 * summaries and details. The whole Payload (its metadata too) is serialized, gzipped when that makes it smaller, and
 * encrypted; the envelope's metadata says only the encoding, the key id and the compression. Codecs run in the
 * worker's and the client's own process, never in the workflow sandbox.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: its default export is the namespace (named imports fail under Node's ESM loader).
import proto from '@temporalio/proto';
import { TrellisError } from '../errors.js';
import type { EncryptionKeys } from './keys.js';

/** The envelope's encoding, as Temporal's samples name it. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata saying the plaintext was gzipped before it was encrypted. */
export const COMPRESSION_METADATA = 'trellis-compression';
/** Payloads smaller than this are not worth compressing. */
export const COMPRESS_ABOVE_BYTES = 1024;

const PayloadProto = proto.temporal.api.common.v1.Payload;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be decrypted: its key is not among the codec's, or it was changed. `code` DECRYPT_FAILED. */
export class DecryptError extends TrellisError {
  constructor(message: string) {
    super('DECRYPT_FAILED', message);
  }
}

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** The codec for `keys`: encrypts with the current key, decrypts with any of them. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: EncryptionKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (read(p.metadata?.encoding) === ENCRYPTED_ENCODING ? this.decrypt(p) : p));
  }

  private encrypt(payload: Payload): Payload {
    const plain = Buffer.from(PayloadProto.encode(payload).finish());
    const zipped = plain.length > COMPRESS_ABOVE_BYTES ? gzipSync(plain) : undefined;
    const body = zipped && zipped.length < plain.length ? zipped : plain;
    const { id, key } = this.keys.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id and the compression are authenticated too: neither can be swapped without failing the tag.
    cipher.setAAD(Buffer.from(`${id}\n${body === zipped ? 'gzip' : ''}`));
    const data = Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: text(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: text(id),
        ...(body === zipped && { [COMPRESSION_METADATA]: text('gzip') }),
      },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = read(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = this.keys.all.get(id);
    if (!key) {
      throw new DecryptError(
        `a payload is encrypted with the key "${id.slice(0, 64)}", which this process does not have (it has: ${[...this.keys.all.keys()].join(', ')}); ` +
          'add that key to TRELLIS_ENCRYPTION_KEYS (after the current one) to read it',
      );
    }
    const gzip = read(payload.metadata?.[COMPRESSION_METADATA]) === 'gzip';
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new DecryptError(`a payload encrypted with the key "${id}" is too short to be one`);
    let body: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${id}\n${gzip ? 'gzip' : ''}`));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      body = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DecryptError(
        `a payload encrypted with the key "${id}" does not decrypt: it was changed, or the key with that id is not the one it was encrypted with`,
      );
    }
    return PayloadProto.decode(gzip ? gunzipSync(body) : body);
  }
}
