/** The payload codec: AES-256-GCM with key ids, rotation, compression, and clear errors for what it cannot read. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { dataConverterFor, DecryptError, EncryptionCodec, parseEncryptionKeys } from '../../src/codec/index.js';

const b64 = () => randomBytes(32).toString('base64');
const k1 = `k1:${b64()}`;
const k2 = `k2:${b64()}`;
const payload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const value = (p: Parameters<typeof defaultPayloadConverter.fromPayload>[0]) => defaultPayloadConverter.fromPayload(p);

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(parseEncryptionKeys(k1, 'test'));

  it('round-trips, and the envelope shows no plaintext, only the encoding and the key id', async () => {
    const [sealed] = await codec.encode([payload({ note: 'MARKER-the glass was shattered' })]);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('MARKER');
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(value((await codec.decode([sealed!]))[0]!)).toEqual({ note: 'MARKER-the glass was shattered' });
  });

  it('gzips a large payload that compresses, before encrypting it', async () => {
    const big = { text: 'refund '.repeat(20_000) };
    const [sealed] = await codec.encode([payload(big)]);
    expect(Buffer.from(sealed!.metadata!['trellis-compression']!).toString()).toBe('gzip');
    expect(sealed!.data!.length).toBeLessThan(2_000);
    expect(value((await codec.decode([sealed!]))[0]!)).toEqual(big);
  });

  it('rotates: a codec with a new current key reads payloads of the old one and writes with the new', async () => {
    const [old] = await codec.encode([payload('before the rotation')]);
    const rotated = new EncryptionCodec(parseEncryptionKeys(`${k2},${k1}`, 'test'));
    expect(value((await rotated.decode([old!]))[0]!)).toBe('before the rotation');
    const [fresh] = await rotated.encode([payload('after')]);
    expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    await expect(codec.decode([fresh!])).rejects.toThrow(/encrypted with the key "k2", which this process does not have \(it has: k1\)/);
  });

  it('refuses a changed payload, a wrong key under the same id, and a swapped compression flag, never giving garbage', async () => {
    const [sealed] = await codec.encode([payload({ amount: 296 })]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[flipped.length - 20]! ^= 1;
    await expect(codec.decode([{ ...sealed!, data: flipped }])).rejects.toThrow(DecryptError);
    const impostor = new EncryptionCodec(parseEncryptionKeys(`k1:${b64()}`, 'test'));
    await expect(impostor.decode([sealed!])).rejects.toThrow(/does not decrypt/);
    const lying = { ...sealed!, metadata: { ...sealed!.metadata, 'trellis-compression': new TextEncoder().encode('gzip') } };
    await expect(codec.decode([lying])).rejects.toThrow(/does not decrypt/);
    await expect(codec.decode([{ ...sealed!, data: new Uint8Array(5) }])).rejects.toThrow(/too short/);
  });

  it('without keys: plain payloads pass, an encrypted one says which setting reads it', async () => {
    const none = dataConverterFor(undefined).payloadCodecs![0]!;
    const plain = payload('plain');
    expect(await none.decode([plain])).toEqual([plain]);
    const [sealed] = await codec.encode([plain]);
    await expect(none.decode([sealed!])).rejects.toThrow(/this run is encrypted, and this process has no key: set TRELLIS_ENCRYPTION_KEYS/);
  });
});

describe('parseEncryptionKeys', () => {
  it('takes the first entry as current, and names a bad entry by position and id, never its key', () => {
    const keys = parseEncryptionKeys(` ${k2} ,\n${k1}\n`, 'TRELLIS_ENCRYPTION_KEYS');
    expect(keys.current.id).toBe('k2');
    expect([...keys.all.keys()]).toEqual(['k2', 'k1']);
    const short = `k3:${randomBytes(16).toString('base64')}`;
    expect(() => parseEncryptionKeys(`${k1},${short}`, 'TRELLIS_ENCRYPTION_KEYS')).toThrow(
      /TRELLIS_ENCRYPTION_KEYS entry 2 \("k3"\): the key must be 32 bytes in base64.*got 16 bytes/,
    );
    try {
      parseEncryptionKeys(short, 'X');
    } catch (e) {
      expect((e as Error).message).not.toContain(short.slice(3));
    }
    expect(() => parseEncryptionKeys(`${k1},${k1}`, 'X')).toThrow(/the key id "k1" is used by an earlier entry too/);
    expect(() => parseEncryptionKeys('nocolon', 'X')).toThrow(/X entry 1: expected keyid:base64key/);
    expect(() => parseEncryptionKeys(' , ', 'X')).toThrow(/X holds no key/);
  });
});
