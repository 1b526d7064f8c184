/**
 * The claim check on the real dev server: outputs of 2.5 MB and 20 MB complete with the history under 1 MB, a later
 * step reads the stored value whole, the status answer gives sizes rather than megabytes, the blobs are encrypted like
 * payloads, S3-compatible storage (moto's server) works as the folder does, a process without the blob or with no
 * store fails with a clear error, and `trellis blobs gc` deletes the blobs of a run whose history is gone, only those.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { msToTs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBlobs, DiskBlobStore, S3BlobStore, type BlobStore } from '../../src/blobs/index.js';
import { TrellisClient } from '../../src/client/index.js';
import { parseEncryptionKeys } from '../../src/codec/keys.js';
import tools from '../fixtures/blob-tools.js';
import { runCli } from '../helpers/cli.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { plaintextIn, rawHistory } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait.js';

const THRESHOLD = 128 * 1024;
const keys = parseEncryptionKeys(`b1:${randomBytes(32).toString('base64')}`, 'test');
const MARKER = `BLOBMARK${randomBytes(4).toString('hex')}`;

let dir: string;
let disk: DiskBlobStore;
let h: Harness;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-blobs-'));
  disk = new DiskBlobStore(path.join(dir, 'blobs'));
  h = await startHarness({ tools, encryption: keys, blobs: { store: disk, thresholdBytes: THRESHOLD } });
});
afterAll(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
const newId = (what: string) => `blobs-${what}-${Date.now().toString(36)}-${++counter}`;
const bigSpec = {
  version: 1,
  name: 'big-output',
  input: { type: 'object', properties: { bytes: { type: 'integer' }, marker: { type: 'string' } } },
  steps: [
    { id: 'big', kind: 'tool', tool: 'big_output', args: { bytes: '${input.bytes}', marker: '${input.marker}' } },
    { id: 'check', kind: 'tool', tool: 'measure', args: { text: '${steps.big.data}' }, after: ['big'] },
  ],
  output: { length: '${steps.check.length}', whole: '${steps.check.sha256 == steps.big.sha256}' },
};
/** The same, waiting for a person at the end: its status is the workflow's answer to the status query. */
const waitingSpec = {
  ...bigSpec,
  name: 'big-output-waits',
  steps: [...bigSpec.steps, { id: 'ok', kind: 'approval', title: 'Keep it?', after: ['check'] }],
};

const names = async (store: BlobStore) => {
  const out = new Set<string>();
  for await (const b of store.list()) out.add(b.sha256);
  return out;
};
const historySize = async (client: TrellisClient, id: string) => (await client.temporal.workflow.getHandle(id).describe()).historySize;

describe('large outputs outside the history', () => {
  for (const [what, bytes] of [
    ['2.5 MB', 2_500_000],
    ['20 MB', 20_000_000],
  ] as const) {
    it(`a ${what} output completes, a later step reads it whole, and the history stays under 1 MB`, { timeout: 120_000 }, async () => {
      const id = newId(what.replace(/[ .]/g, ''));
      const run = await h.client.start(waitingSpec, { id, input: { bytes, marker: MARKER } });
      // The status answer gives the stored output's size, not the output.
      const waiting = await waitFor(
        () => h.client.status(id),
        (v) => v.status !== 'running',
        { timeoutMs: 90_000 },
      );
      expect(waiting.status).toBe('waiting');
      expect(waiting.steps.big!.output).toBeNull();
      expect(waiting.steps.big!.omitted).toBeGreaterThan(bytes);
      expect(waiting.steps.check!.output).toMatchObject({ length: bytes });
      await h.client.approve(id, 'ok', { by: 'ana' });

      const result = await run.result();
      expect(result.output).toEqual({ length: bytes, whole: true });
      const steps = result.steps as Record<string, { output: { data?: string; sha256: string } }>;
      expect(steps.big!.output.data).toHaveLength(bytes);
      expect(await historySize(h.client, id)).toBeLessThan(1_000_000);
      // An ended run's status is cut to the threshold alike.
      const ended = await h.client.status(id);
      expect(ended.status).toBe('completed');
      expect(ended.steps.big!.omitted).toBeGreaterThan(bytes);

      // Neither the history nor the blobs (encrypted like payloads) hold the marker.
      expect(plaintextIn(await rawHistory(id), [MARKER])).toEqual([]);
      for (const sha of await names(disk)) {
        expect((await readFile(path.join(disk.location, sha.slice(0, 2), sha))).includes(MARKER)).toBe(false);
      }
    });
  }
});

describe('clear errors', () => {
  it('a process whose store lacks the blob, or that has no store, says so and which setting to fix', async () => {
    const id = newId('elsewhere');
    await (await h.client.start(bigSpec, { id, input: { bytes: 300_000, marker: MARKER } })).result();
    const config = { address: temporalAddress(), namespace: temporalNamespace(), taskQueue: h.taskQueue };
    const other = await TrellisClient.connect(config, {
      encryption: keys,
      blobs: { store: new DiskBlobStore(path.join(dir, 'empty')), thresholdBytes: THRESHOLD },
    });
    const none = await TrellisClient.connect(config, { encryption: keys, blobs: null });
    try {
      await expect(other.result(id)).rejects.toThrow(
        /is not in the blob store .*empty: every worker, client and `trellis serve` must share one TRELLIS_BLOB_STORE/,
      );
      await expect(none.result(id)).rejects.toThrow(
        /keeps large payloads in a blob store, and this process has none \(TRELLIS_BLOB_STORE is "none"\)/,
      );
    } finally {
      await Promise.all([other.close(), none.close()]);
    }
  });

  it('a changed blob is refused, never read as the payload', async () => {
    const store = new DiskBlobStore(path.join(dir, 'tamper'));
    const t = await startHarness({ tools, blobs: { store, thresholdBytes: THRESHOLD } });
    try {
      const id = newId('tamper');
      await (await t.client.start(bigSpec, { id, input: { bytes: 200_000, marker: MARKER } })).result();
      for (const sha of await names(store)) {
        const file = path.join(store.location, sha.slice(0, 2), sha);
        const bytes = await readFile(file);
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
        await writeFile(file, bytes);
      }
      await expect(t.client.result(id)).rejects.toThrow(/does not match its hash: it was changed or damaged/);
    } finally {
      await t.stop();
    }
  });
});

describe('S3-compatible storage', () => {
  let moto: Moto;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    moto = await startMoto();
    for (const [k, v] of Object.entries(moto.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    await new S3Client({ endpoint: moto.endpoint, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'trellis-test' }));
  }, 540_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await moto?.stop();
  });

  it('a 2.5 MB output goes to the bucket and the run completes as with the folder', { timeout: 120_000 }, async () => {
    const store = new S3BlobStore('trellis-test', 'runs/');
    const s = await startHarness({ tools, encryption: keys, blobs: { store, thresholdBytes: THRESHOLD } });
    try {
      const id = newId('s3');
      const result = await (await s.client.start(bigSpec, { id, input: { bytes: 2_500_000, marker: MARKER } })).result();
      expect((result.steps as Record<string, { output: { length: number } }>).check!.output.length).toBe(2_500_000);
      expect(await historySize(s.client, id)).toBeLessThan(1_000_000);
      expect((await names(store)).size).toBeGreaterThanOrEqual(2);
      expect(store.location).toBe('s3://trellis-test/runs/');
    } finally {
      await s.stop();
    }
  });
});

describe('trellis blobs gc', () => {
  it("deletes the blobs of a run whose history is gone, and old strays; keeps the others' and young ones", { timeout: 300_000 }, async () => {
    // A namespace of its own: gc reads every history of its namespace, and the shared one holds the whole suite's.
    const namespace = `gc-${Date.now().toString(36)}`;
    const service = h.client.temporal.workflowService;
    await service.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1d') });
    await waitFor(
      () =>
        service.describeNamespace({ namespace }).then(
          () => true,
          () => false,
        ),
      (ok) => ok,
      { timeoutMs: 60_000, what: `namespace ${namespace}` },
    );
    const store = new DiskBlobStore(path.join(dir, 'gc'));
    const g = await startHarness({ tools, blobs: { store, thresholdBytes: THRESHOLD }, namespace });
    try {
      const kept = newId('kept');
      await (await g.client.start(bigSpec, { id: kept, input: { bytes: 200_000, marker: MARKER } })).result();
      const keptBlobs = await names(store);
      const gone = newId('gone');
      await (await g.client.start(bigSpec, { id: gone, input: { bytes: 200_000, marker: MARKER } })).result();
      const goneBlobs = [...(await names(store))].filter((b) => !keptBlobs.has(b));
      expect(goneBlobs.length).toBeGreaterThanOrEqual(2);
      // Retention, in short: the run's history is deleted.
      await g.client.temporal.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: gone } });
      await waitFor(
        () =>
          g.client.temporal.workflow
            .getHandle(gone)
            .describe()
            .then(
              () => 'there',
              () => 'gone',
            ),
        (r) => r === 'gone',
        { timeoutMs: 120_000, what: 'the deleted run to be gone' },
      );
      // A history of inline payloads (a worker without a store) larger than a gRPC message (4 MB) is read in pages.
      const inline = await startHarness({ tools, namespace });
      try {
        const steps = Array.from({ length: 12 }, (_, i) => ({
          id: `s${i}`,
          kind: 'tool',
          tool: 'big_output',
          args: { bytes: 400_000, marker: MARKER },
        }));
        const wide = newId('inline');
        await (await inline.client.start({ version: 1, name: 'inline', steps, output: '${steps.s0.sha256}' }, { id: wide })).result();
        expect(await historySize(inline.client, wide)).toBeGreaterThan(4_500_000);
      } finally {
        await inline.stop();
      }
      // A blob being written is in no history yet: within the grace period a stray stays, past it it goes.
      const stray = (n: number) => n.toString(16).padStart(64, 'a');
      for (const [sha, age] of [
        [stray(1), 3 * 3600_000],
        [stray(2), 0],
      ] as const) {
        await mkdir(path.join(store.location, sha.slice(0, 2)), { recursive: true });
        const file = path.join(store.location, sha.slice(0, 2), sha);
        await writeFile(file, 'stray');
        const when = new Date(Date.now() - age);
        await utimes(file, when, when);
      }

      // gc finds runs through visibility, which lags: wait until it lists the runs (a deleted run it still lists has no
      // history to read, and refers to nothing).
      const listed = async () => {
        const page = await service.listWorkflowExecutions({ namespace, pageSize: 100 });
        return (page.executions ?? []).map((e) => e.execution?.workflowId);
      };
      await waitFor(listed, (ids) => ids.includes(kept) && ids.length >= 2, {
        timeoutMs: 60_000,
        what: 'visibility to list the runs',
      });
      const dry = await collectBlobs({
        service: g.client.temporal.workflowService,
        namespace,
        store,
        graceMs: 3600_000,
        dryRun: true,
      });
      // Within an hour's grace only the 3-hour-old stray goes; the gone run's blobs are minutes old.
      expect(dry).toMatchObject({ deleted: 1, kept: keptBlobs.size, young: goneBlobs.length + 1 });
      expect((await names(store)).has(stray(1))).toBe(true);

      // The CLI, as an operator runs it; the gone run's blobs are older than the grace period given.
      await new Promise((r) => setTimeout(r, 50));
      const cli = await runCli(['blobs', 'gc', '--older-than', '30ms'], {
        timeoutMs: 180_000,
        env: { TRELLIS_BLOB_STORE: store.location, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: namespace },
      });
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      const left = await names(store);
      for (const b of keptBlobs) expect(left.has(b)).toBe(true);
      for (const b of goneBlobs) expect(left.has(b)).toBe(false);
      expect(left.has(stray(1))).toBe(false);
      expect(cli.stdout).toMatch(new RegExp(`deleted ${goneBlobs.length + 2} \\(`)); // the young stray is 50 ms old by now: past 30ms
      // The kept run still reads whole.
      expect(((await g.client.result(kept)).steps as Record<string, { output: { length: number } }>).check!.output.length).toBe(200_000);
    } finally {
      await g.stop();
    }
  });
});
