/**
 * Blobs in a folder: `<dir>/<first two hex digits>/<sha256>`, written to a temporary name and renamed into place, so a
 * reader never sees half a blob and two writers of the same blob both succeed. The default store (`.trellis/blobs`),
 * for the dev server, tests and a single machine; workers on several machines need a shared folder or S3.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BlobError, isBlobName, type BlobEntry, type BlobStore } from './store.js';

export class DiskBlobStore implements BlobStore {
  readonly location: string;

  constructor(dir: string) {
    this.location = path.resolve(dir);
  }

  private file(sha256: string): string {
    return path.join(this.location, sha256.slice(0, 2), sha256);
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(sha256);
    try {
      if (await exists(file)) return;
      await mkdir(path.dirname(file), { recursive: true });
      const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
      await writeFile(partial, bytes, { mode: 0o600 });
      await rename(partial, file);
    } catch (e) {
      throw failed(`could not write a blob to ${this.location}`, e);
    }
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw failed(`could not read a blob from ${this.location}`, e);
    }
  }

  async *list(): AsyncIterable<BlobEntry> {
    for (const shard of await entries(this.location)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await entries(path.join(this.location, shard))) {
        if (!isBlobName(name) || !name.startsWith(shard)) continue;
        const info = await stat(path.join(this.location, shard, name)).catch(() => undefined);
        if (info?.isFile()) yield { sha256: name, size: info.size, modified: info.mtime };
      }
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.file(sha256), { force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw failed(`could not list ${dir}`, e);
  }
}

function failed(what: string, e: unknown): BlobError {
  return new BlobError('BLOB_STORE_FAILED', `${what}: ${(e as Error).message}`);
}
