import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_SOURCES, DevServerError, TemporalCliError, locateTemporalCli, startDevServer } from '../../src/temporal/index.js';
import { connectClient, connectWorker, temporalNamespace } from '../helpers/temporal.js';

const workflowsPath = fileURLToPath(new URL('../fixtures/echo-workflow.ts', import.meta.url));

describe('the shared dev server', () => {
  it('runs a workflow on a real worker', async () => {
    const { client, close } = await connectClient();
    const connection = await connectWorker();
    try {
      const taskQueue = `echo-${randomUUID()}`;
      const worker = await Worker.create({ connection, namespace: temporalNamespace(), taskQueue, workflowsPath });
      const result = await worker.runUntil(client.workflow.execute('echo', { taskQueue, workflowId: `echo-${randomUUID()}`, args: ['hello'] }));
      expect(result).toBe('echo: hello');
    } finally {
      await connection.close();
      await close();
    }
  });
});

describe('startDevServer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trellis-dev-server-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a second server on free ports with its state on disk, and stops it', async () => {
    const dbFile = path.join(dir, 'second.db');
    const server = await startDevServer({ port: 'auto', ui: false, dbFile, log: () => {} });
    const port = Number(server.address.split(':').at(-1));
    try {
      expect(server.dbFile).toBe(dbFile);
      const connection = await Connection.connect({ address: server.address });
      try {
        const info = await connection.workflowService.getSystemInfo({});
        expect(info.serverVersion).toBeTruthy();
      } finally {
        await connection.close();
      }
      // Sharing a server by accident would mix two runs' state: a taken port is an error.
      const clash = startDevServer({ port, ui: false, dbFile: path.join(dir, 'clash.db'), log: () => {} });
      await expect(clash).rejects.toMatchObject({ code: 'DEV_SERVER_PORT_IN_USE' });
      await expect(clash).rejects.toBeInstanceOf(DevServerError);
    } finally {
      await server.stop();
      await server.stop(); // idempotent
    }
    expect(await answers(port)).toBe(false);
    expect(existsSync(dbFile)).toBe(true);
  });
});

describe('locateTemporalCli', () => {
  it('rejects a TEMPORAL_CLI that does not exist, with a stable code', async () => {
    const located = locateTemporalCli({ env: { TEMPORAL_CLI: path.join(tmpdir(), `no-such-${randomUUID()}`) } });
    await expect(located).rejects.toBeInstanceOf(TemporalCliError);
    await expect(located).rejects.toMatchObject({ code: 'TEMPORAL_CLI_INVALID' });
  });

  it('says what to do when every source is disabled', async () => {
    const located = locateTemporalCli({ skip: CLI_SOURCES, log: () => {} });
    await expect(located).rejects.toMatchObject({ code: 'TEMPORAL_CLI_NOT_FOUND' });
    await expect(located).rejects.toThrow(/TEMPORAL_CLI.*TEMPORAL_ADDRESS/s);
  });
});

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
