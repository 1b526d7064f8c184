/**
 * The payload codec alone (no server): the time to encrypt and decrypt one payload, and its size on the wire, for
 * JSON like a tool's output (an order with line items, repeated to the size), against the plain payload. This is
 * what encryption adds to every payload a run carries; gzip pays for itself above about 1 KiB of such JSON.
 *
 *   npm run build && node --expose-gc bench/run.mjs codec
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, parseEncryptionKeys } from '../dist/worker.js';
import { gc, int, median, ms, table } from './lib/stats.mjs';

export const name = 'codec';

const SIZES = [512, 4 * 1024, 64 * 1024, 1024 * 1024];
const ROUNDS = 30;

/** An order-like JSON value of about `bytes` characters (bench/encryption.mjs uses it too). */
export function output(bytes) {
  const items = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const item = { sku: `SKU-${1000 + i}`, name: `wool blanket ${i}`, quantity: (i % 3) + 1, price: 49.5 + i, note: 'arrived in good condition' };
    items.push(item);
    length += JSON.stringify(item).length + 1;
  }
  return { orderId: 'A-1004', customer: 'Alan Kay', items };
}

export default async function run() {
  const codec = new EncryptionCodec(parseEncryptionKeys(`bench:${randomBytes(32).toString('base64')}`, 'bench'));
  const rows = [['payload', 'plain bytes', 'encrypted bytes', 'size ratio', 'encode ms', 'decode ms']];
  for (const size of SIZES) {
    const payload = defaultPayloadConverter.toPayload(output(size));
    const [sealed] = await codec.encode([payload]);
    const enc = [];
    const dec = [];
    for (let i = 0; i < ROUNDS; i++) {
      gc();
      let t = performance.now();
      const [s] = await codec.encode([payload]);
      enc.push(performance.now() - t);
      t = performance.now();
      await codec.decode([s]);
      dec.push(performance.now() - t);
    }
    rows.push([
      size < 1024 ? `${size} B JSON` : `${size / 1024} KiB JSON`,
      int(payload.data.length),
      int(sealed.data.length),
      `${(sealed.data.length / payload.data.length).toFixed(2)}x`,
      ms(median(enc)),
      ms(median(dec)),
    ]);
  }
  console.log(`codec: AES-256-GCM (gzip above 1 KiB when smaller), one payload at a time, median of ${ROUNDS}`);
  console.log(table(rows));
  console.log('');
}
