/**
 * `trellis serve` inside `trellis dev --encrypt`: the inbox, and the codec endpoint the dev server's UI decodes
 * encrypted payloads with. Serve and the UI both listen on 127.0.0.1 (ports differ): the same site, so the inbox's
 * SameSite=Lax session cookie goes with the UI's codec calls. `localhost` for one and 127.0.0.1 for the other would
 * be two sites, and the codec would answer 401.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { SignJWT } from 'jose';
import type { Logger } from 'pino';
import type { TrellisClient } from '../client/index.js';
import type { EncryptionKeys } from '../codec/keys.js';
import { authConfigFromEnv, authConfigured } from '../server/auth.js';
import { startServer, type RunningServer } from '../server/serve.js';
import type { ToolCatalog } from '../spec/index.js';
import { asUsageError, UsageError } from './io.js';

/** Where serve listens in dev: the UI's host, for the cookie's sake (see above). */
export const DEV_SERVE_HOST = '127.0.0.1';

/** The codec endpoint the dev server's UI is pointed at, for serve on `port`. */
export function devCodecEndpoint(port: number): string {
  return `http://${DEV_SERVE_HOST}:${port}/codec`;
}

/**
 * Fails at once, before the dev server starts, when something holds serve's port: the UI is given the codec's URL as
 * it starts, so serve cannot move to another port afterwards.
 *
 * @throws {UsageError} naming the port and the option that changes it.
 */
export async function checkServePortFree(port: number): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, DEV_SERVE_HOST, () => probe.close(() => resolve(true)));
  });
  if (!free) throw new UsageError(`${DEV_SERVE_HOST}:${port} is in use: stop what listens there, or choose another port with --serve-port`);
}

export interface DevServe {
  server: RunningServer;
  /** How to sign in to the inbox: a token for the dev secret, or what the configured auth asks for. */
  signIn: string;
}

/**
 * Starts serve on `port` with the client, the keys and the UI's origin (for CORS). Without auth of the user's
 * (TRELLIS_API_KEYS, TRELLIS_JWKS_URL, TRELLIS_JWT_SECRET), serve would refuse everyone: dev then signs people in with
 * a JWT secret it makes once in `home` (mode 0600, like the encryption key) and gives a token for "you".
 */
export async function startDevServe(options: {
  port: number;
  home: string;
  client: TrellisClient;
  encryption: EncryptionKeys;
  temporalUiUrl: string;
  tools?: ToolCatalog;
  logger: Logger;
}): Promise<DevServe> {
  const own = asUsageError(() => authConfigFromEnv());
  const secret = authConfigured(own) ? undefined : await ensureDevJwtSecret(options.home);
  const auth = secret ? asUsageError(() => authConfigFromEnv({ ...process.env, TRELLIS_JWT_SECRET: secret })) : own;
  const decisionKey = process.env.TRELLIS_DECISION_KEY;
  const server = await startServer({
    port: options.port,
    host: DEV_SERVE_HOST,
    deps: {
      client: options.client,
      auth,
      logger: options.logger,
      encryption: options.encryption,
      temporalUiUrl: options.temporalUiUrl,
      ...(options.tools && { tools: options.tools }),
      ...(decisionKey && { decisionKey }),
    },
  }).catch((e: Error) => Promise.reject(new UsageError(`trellis serve cannot listen on ${DEV_SERVE_HOST}:${options.port}: ${e.message}`)));
  const signIn = secret
    ? `sign in with this token (a JWT for "you", valid 8 h, signed with the secret in ${devJwtSecretFile(options.home)}):\n  ${await devToken(secret)}`
    : 'sign in with a JWT of your TRELLIS_JWKS_URL or TRELLIS_JWT_SECRET';
  return { server, signIn };
}

function devJwtSecretFile(home: string): string {
  return path.join(home, 'dev-jwt.secret');
}

/** The dev JWT secret under `home`: written once (mode 0600), so a token printed once keeps working across restarts. */
async function ensureDevJwtSecret(home: string): Promise<string> {
  const file = devJwtSecretFile(home);
  await mkdir(home, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < 32) throw new UsageError(`${file} holds no usable secret (at least 32 characters): delete it, and trellis dev makes a new one`);
  return secret;
}

function devToken(secret: string): Promise<string> {
  return new SignJWT({ email: 'you@example.com' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('you')
    .setIssuedAt()
    .setExpirationTime('8h')
    .sign(new TextEncoder().encode(secret));
}
