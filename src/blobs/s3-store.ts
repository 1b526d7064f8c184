/**
 * Blobs in S3-compatible object storage through the AWS SDK v3: `s3://bucket/prefix` keeps a blob at
 * `prefix/<sha256>`. Credentials and region come from the SDK's usual chain (AWS_REGION, AWS_ACCESS_KEY_ID, a profile,
 * an instance role); AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL points it at another S3-compatible server, which is then
 * addressed path-style (bucket in the path), as most of them expect. The SDK is loaded on first use: a process that
 * never touches S3 never loads it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { BlobError, isBlobName, type BlobEntry, type BlobStore } from './store.js';

export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly prefix: string;
  private readonly endpoint: string | undefined;
  private sdk: Promise<{ client: S3Client; s3: typeof import('@aws-sdk/client-s3') }> | undefined;

  constructor(
    private readonly bucket: string,
    prefix: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${bucket}/${this.prefix}`;
    this.endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  }

  private load() {
    // The SDK warns on Node 20 of its own future releases; Trellis pins a release that supports Node 20.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.sdk ??= import('@aws-sdk/client-s3').then((s3) => ({
      s3,
      client: new s3.S3Client({
        ...(this.endpoint && { endpoint: this.endpoint, forcePathStyle: true }),
        // Checksums only where S3 requires them: other S3-compatible servers refuse the newer default ones.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    }));
    return this.sdk;
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const { client, s3 } = await this.load();
    await this.call('write a blob to', () =>
      client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + sha256, Body: bytes, ContentType: 'application/octet-stream' })),
    );
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const { client, s3 } = await this.load();
    try {
      const out = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + sha256 }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (e instanceof s3.S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404)) return undefined;
      throw this.failed('read a blob from', e);
    }
  }

  async *list(): AsyncIterable<BlobEntry> {
    const { client, s3 } = await this.load();
    let token: string | undefined;
    do {
      const page = await this.call('list', () =>
        client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(this.prefix.length) ?? '';
        if (isBlobName(name)) yield { sha256: name, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(sha256: string): Promise<void> {
    const { client, s3 } = await this.load();
    await this.call('delete a blob from', () => client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + sha256 })));
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw this.failed(what, e);
    }
  }

  private failed(what: string, e: unknown): BlobError {
    const reason = (e as Error).message || (e as Error).name || String(e);
    return new BlobError('BLOB_STORE_FAILED', `could not ${what} ${this.location}: ${reason}`);
  }
}
