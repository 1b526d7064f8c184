/**
 * The keys payloads are encrypted with: TRELLIS_ENCRYPTION_KEYS (`keyid:base64key,...`, the first is current) or
 * TRELLIS_ENCRYPTION_KEY_FILE (a file holding the same, one entry per line or comma-separated). Several keys at once
 * allow rotation: payloads are encrypted with the current key and decrypted with whichever key their id names.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';

/** One AES-256 key and the id payloads name it by. */
export interface EncryptionKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** The current key first, then the older ones still needed to read older payloads. */
export interface EncryptionKeys {
  current: EncryptionKey;
  all: ReadonlyMap<string, EncryptionKey>;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads `keyid:base64key` entries (comma- or newline-separated; the first is current). `where` names the source in
 * errors, which give an entry's position and id, never its key.
 *
 * @throws {ConfigError} for no entry, a malformed entry, a key that is not 32 bytes of base64, or an id used twice.
 */
export function parseEncryptionKeys(text: string, where: string): EncryptionKeys {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0)
    throw new ConfigError(`${where} holds no key: expected keyid:base64key (32 bytes, for example \`openssl rand -base64 32\`)`);
  const all = new Map<string, EncryptionKey>();
  entries.forEach((entry, i) => {
    const at = `${where} entry ${i + 1}`;
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const text = colon < 0 ? '' : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new ConfigError(`${at}: expected keyid:base64key, the id 1 to 64 letters, digits, _ . or -`);
    const key = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (key.length !== 32)
      throw new ConfigError(`${at} ("${id}"): the key must be 32 bytes in base64 (\`openssl rand -base64 32\`), got ${key.length} bytes`);
    if (all.has(id)) throw new ConfigError(`${at}: the key id "${id}" is used by an earlier entry too`);
    all.set(id, { id, key });
  });
  return { current: all.values().next().value!, all };
}

/**
 * The keys from TRELLIS_ENCRYPTION_KEYS or TRELLIS_ENCRYPTION_KEY_FILE; undefined when neither is set (payloads are
 * not encrypted). Throws ConfigError for both at once, an unreadable file, or a bad entry.
 */
export function encryptionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionKeys | undefined {
  const inline = env.TRELLIS_ENCRYPTION_KEYS || undefined;
  const file = env.TRELLIS_ENCRYPTION_KEY_FILE || undefined;
  if (inline && file) throw new ConfigError('set TRELLIS_ENCRYPTION_KEYS or TRELLIS_ENCRYPTION_KEY_FILE, not both');
  if (inline) return parseEncryptionKeys(inline, 'TRELLIS_ENCRYPTION_KEYS');
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`TRELLIS_ENCRYPTION_KEY_FILE: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseEncryptionKeys(text, `TRELLIS_ENCRYPTION_KEY_FILE (${file})`);
}
