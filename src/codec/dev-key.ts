/** `trellis dev --encrypt` without a key of the user's: one made once, kept beside the dev server's state. */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The file under `home` (.trellis) that holds the dev key; written once (mode 0600), reused after. */
export async function ensureDevKeyFile(home: string): Promise<string> {
  const file = path.join(home, 'encryption.keys');
  await mkdir(home, { recursive: true });
  try {
    await writeFile(file, `# made by trellis dev --encrypt; keep it out of version control\ndev:${randomBytes(32).toString('base64')}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return file;
}
