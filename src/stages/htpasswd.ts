import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { compare as bcryptCompare } from 'bcryptjs';

/**
 * The proxy's password file: `user:hash` lines, `#` comments and blank lines ignored. Hashes are bcrypt
 * (`$2a$`/`$2b$`/`$2y$`, as `htpasswd -B` writes) or scrypt as `$scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>`
 * (node:crypto, no native build). Both are verified asynchronously, off the event loop's critical path.
 */
export type PasswordHash =
  | { kind: 'bcrypt'; hash: string }
  | { kind: 'scrypt'; params: Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>>; salt: Buffer; key: Buffer };

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const SCRYPT = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
/** Bounds on scrypt cost read from the file: enough for strong settings, not enough to exhaust memory per request. */
const MAX_SCRYPT_N = 1 << 20;
const MAX_SCRYPT_RP = 64;
const MAX_SCRYPT_BYTES = 256 * 1024 * 1024;
const DEFAULT_PARAMS = { N: 16384, r: 8, p: 1 };

export async function loadHtpasswd(file: string): Promise<Map<string, PasswordHash>> {
  const text = await readFile(file, 'utf8');
  const users = new Map<string, PasswordHash>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${where}: expected "user:hash"`);
    const user = line.slice(0, colon);
    if (users.has(user)) throw new Error(`${where}: user "${user}" is listed twice`);
    const hash = parseHash(line.slice(colon + 1));
    if (typeof hash === 'string') throw new Error(`${where}: ${hash}`);
    users.set(user, hash);
  });
  return users;
}

/** A PasswordHash, or the reason the text is not one. */
export function parseHash(text: string): PasswordHash | string {
  if (BCRYPT.test(text)) return { kind: 'bcrypt', hash: text };
  const m = SCRYPT.exec(text);
  if (!m) return 'unsupported hash (expected bcrypt $2a$/$2b$/$2y$ or $scrypt$N=..,r=..,p=..$salt$hash)';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0) return `scrypt N must be a power of two up to ${MAX_SCRYPT_N}`;
  if (r < 1 || r > MAX_SCRYPT_RP || p < 1 || p > MAX_SCRYPT_RP) return `scrypt r and p must be 1..${MAX_SCRYPT_RP}`;
  if (scryptBytes({ N, r, p }) > MAX_SCRYPT_BYTES) return 'scrypt parameters need more than 256 MiB per verification';
  const key = Buffer.from(m[5] as string, 'base64');
  if (key.length < 16) return 'scrypt hash is shorter than 16 bytes';
  return { kind: 'scrypt', params: { N, r, p }, salt: Buffer.from(m[4] as string, 'base64'), key };
}

/** Stands in for unknown users so a miss costs about as much as a hit (no user enumeration by timing). */
const DUMMY: PasswordHash = { kind: 'scrypt', params: DEFAULT_PARAMS, salt: Buffer.alloc(16), key: Buffer.alloc(32) };

export async function verifyPassword(password: string, hash: PasswordHash | undefined): Promise<boolean> {
  const h = hash ?? DUMMY;
  if (h.kind === 'bcrypt') return bcryptCompare(password, h.hash);
  const derived = await scryptAsync(password, h.salt, h.key.length, h.params);
  return timingSafeEqual(derived, h.key) && hash !== undefined;
}

/** A `$scrypt$...` line value for a new password (for tests, docs and `portico` tooling). */
export async function hashPasswordScrypt(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, DEFAULT_PARAMS);
  const { N, r, p } = DEFAULT_PARAMS;
  return `$scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function scryptAsync(password: string, salt: Buffer, length: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // node refuses scrypt above maxmem (32 MiB by default); size it to what these parameters need.
  const maxmem = scryptBytes(params) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...params, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** OpenSSL's scrypt memory: the V array (128·r·N) plus the B blocks (128·r·p). */
function scryptBytes(params: { N: number; r: number; p: number }): number {
  return 128 * params.r * (params.N + params.p);
}
