/** The claim check without Temporal: settings, the codec on a folder, references in a raw history, the limits with a store. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOB_REF_ENCODING,
  blobSettingsFromEnv,
  ClaimCheckCodec,
  DiskBlobStore,
  NoBlobStoreCodec,
  referencesIn,
  S3BlobStore,
} from '../../src/blobs/index.js';
import { limitsFromEnv } from '../../src/config.js';

const text = (s: string) => new TextEncoder().encode(s);
const json = (data: Uint8Array): Payload => ({ metadata: { encoding: text('json/plain') }, data });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-blobs-unit-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('blob settings', () => {
  it('default to .trellis/blobs under TRELLIS_HOME, 128 KiB; none turns them off', () => {
    const d = blobSettingsFromEnv({ TRELLIS_HOME: '/srv/t' }, '/work');
    expect(d?.store.location).toBe('/srv/t/blobs');
    expect(d?.thresholdBytes).toBe(131_072);
    expect(blobSettingsFromEnv({}, '/work')?.store.location).toBe('/work/.trellis/blobs');
    expect(blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 'none' })).toBeUndefined();
    expect(blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 'data/blobs', TRELLIS_BLOB_THRESHOLD: '4096' }, '/work')).toMatchObject({
      store: { location: '/work/data/blobs' },
      thresholdBytes: 4096,
    });
    const s3 = blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 's3://acme-trellis/runs' })?.store;
    expect(s3).toBeInstanceOf(S3BlobStore);
    expect(s3?.location).toBe('s3://acme-trellis/runs/');
  });

  it('refuse what they cannot use, naming the variable', () => {
    expect(() => blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 's3://' })).toThrow(/TRELLIS_BLOB_STORE must be s3:\/\/BUCKET/);
    expect(() => blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 's3://Bad_Bucket/x' })).toThrow(/valid bucket name/);
    expect(() => blobSettingsFromEnv({ TRELLIS_BLOB_STORE: 'https://blobs.example/x' })).toThrow(/a folder, an s3:\/\/ URL or "none"/);
    for (const t of ['10', '2000000', '1.5', 'lots']) {
      expect(() => blobSettingsFromEnv({ TRELLIS_BLOB_THRESHOLD: t })).toThrow(
        /TRELLIS_BLOB_THRESHOLD must be a whole number of bytes from 1,024 to 1,048,576/,
      );
    }
  });

  it('raise the payload limit to 32 MiB (at most 256 MiB), and only with a store', () => {
    expect(limitsFromEnv({}, 131_072)).toMatchObject({ payloadBytes: 32 * 1024 * 1024, storedAboveBytes: 131_072 });
    expect(limitsFromEnv({ TRELLIS_MAX_PAYLOAD_BYTES: String(256 * 1024 * 1024) }, 131_072).payloadBytes).toBe(256 * 1024 * 1024);
    expect(() => limitsFromEnv({ TRELLIS_MAX_PAYLOAD_BYTES: String(256 * 1024 * 1024 + 1) }, 131_072)).toThrow(/TRELLIS_MAX_PAYLOAD_BYTES/);
    expect(limitsFromEnv({}).payloadBytes).toBe(512 * 1024);
    expect(() => limitsFromEnv({ TRELLIS_MAX_PAYLOAD_BYTES: '3000000' })).toThrow(/with a blob store, TRELLIS_BLOB_STORE, up to 256 MiB/);
  });
});

describe('the claim-check codec', () => {
  it('stores what is over the threshold, leaves the rest, and reads it back', async () => {
    const store = new DiskBlobStore(path.join(dir, 'codec'));
    const codec = new ClaimCheckCodec(store, 1024);
    const small = json(text('{"a":1}'));
    const big = json(new Uint8Array(5000).fill(65));
    const [s, b] = await codec.encode([small, big]);
    expect(s).toBe(small);
    expect(new TextDecoder().decode(b!.metadata!.encoding!)).toBe(BLOB_REF_ENCODING);
    const ref = JSON.parse(new TextDecoder().decode(b!.data!)) as { sha256: string; size: number };
    expect(ref.size).toBeGreaterThan(5000);
    const [s2, b2] = await codec.decode([s!, b!]);
    expect(s2).toBe(small);
    expect(Buffer.from(b2!.data!)).toEqual(Buffer.from(big.data!));
    // The same payload again is the same blob: a write is idempotent.
    const [again] = await codec.encode([big]);
    expect(Buffer.from(again!.data!).toString()).toBe(Buffer.from(b!.data!).toString());
  });

  it('refuses a missing, changed or malformed blob, and a reference without a store', async () => {
    const store = new DiskBlobStore(path.join(dir, 'bad'));
    const codec = new ClaimCheckCodec(store, 1024);
    const [ref] = await codec.encode([json(new Uint8Array(3000).fill(66))]);
    const { sha256 } = JSON.parse(new TextDecoder().decode(ref!.data!)) as { sha256: string };
    await writeFile(path.join(store.location, sha256.slice(0, 2), sha256), 'changed');
    await expect(codec.decode([ref!])).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    await expect(new ClaimCheckCodec(new DiskBlobStore(path.join(dir, 'empty')), 1024).decode([ref!])).rejects.toMatchObject({
      code: 'BLOB_MISSING',
      message: expect.stringContaining('must share one TRELLIS_BLOB_STORE'),
    });
    const malformed = { metadata: { encoding: text(BLOB_REF_ENCODING) }, data: text('{"sha256":"../../etc/passwd","size":1}') };
    await expect(codec.decode([malformed])).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    await expect(new NoBlobStoreCodec().decode([ref!])).rejects.toMatchObject({ code: 'BLOB_MISSING' });
  });
});

describe('references in a raw history', () => {
  it('are found at any depth: events, failures, memos, markers', () => {
    const ref = (sha: string) => ({ metadata: { encoding: text(BLOB_REF_ENCODING) }, data: text(JSON.stringify({ sha256: sha, size: 9 })) });
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const history = {
      events: [
        { activityTaskCompletedEventAttributes: { result: { payloads: [ref(a)] } } },
        {
          workflowExecutionFailedEventAttributes: {
            failure: { cause: { applicationFailureInfo: { details: { payloads: [json(text('1')), ref(b)] } } } },
          },
        },
      ],
    };
    expect(referencesIn(history).sort()).toEqual([a, b]);
    expect(referencesIn({ events: [{ x: json(text('{"sha256":"' + a + '"}')) }] })).toEqual([]);
  });
});
