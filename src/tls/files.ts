import { randomBytes } from 'node:crypto';
import { chmod, open, rename, rm, writeFile } from 'node:fs/promises';

/** No CA or leaf file is anywhere near this; a bigger one is a wrong path (or /dev/zero), not a certificate. */
export const MAX_PEM_FILE_BYTES = 64 * 1024;

/**
 * Writes `data` to a temp file next to `path`, then renames it into place: readers (another Portico, the SNI hot
 * path after a restart) see the old file or the whole new one, never a half-written one (http-mitm-proxy #239).
 * The explicit chmod gives the exact mode even when the file is replaced or the umask is unusual.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export interface ReadText { text: string; mode: number }

/** Reads a small text file with its permission bits, refusing anything larger than `MAX_PEM_FILE_BYTES`. */
export async function readSmallText(path: string): Promise<ReadText> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('is a directory, not a file'), { code: 'EISDIR' });
    if (info.size > MAX_PEM_FILE_BYTES) throw new Error(`file too large (${info.size} bytes, at most ${MAX_PEM_FILE_BYTES})`);
    return { text: await handle.readFile('utf8'), mode: info.mode & 0o777 };
  } finally {
    await handle.close();
  }
}

/** The errno-style code of a Node fs error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
