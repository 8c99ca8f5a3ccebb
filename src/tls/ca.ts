import { createPrivateKey, generateKeyPair, X509Certificate } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock, type Clock } from '../core/clock.js';
import { buildCaCertificate, DEFAULT_CA_COMMON_NAME } from './ca-cert.js';
import { CA_CERT_FILE, CA_KEY_FILE, CaError, LEAF_KEY_FILE, loadCa, readCaCertificate, type CaMaterial } from './ca-material.js';
import { errorCode, writeFileAtomic } from './files.js';

export { CaError, loadCa, type CaErrorCode, type CaMaterial } from './ca-material.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface CaPaths {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly leafKeyFile: string;
  readonly fingerprintSha256: string;
}

export interface InitCaOptions {
  /** Replace an existing CA (every device that trusted the old one must install the new one). */
  force?: boolean;
  commonName?: string;
  clock?: Clock;
}

/**
 * Creates the CA and the shared leaf key in `dir`. Both RSA keys come from the async `generateKeyPair`, which
 * runs on the libuv pool: the sync variants block the event loop for 100-600 ms each (LIBRARIES.md §2.4).
 */
export async function initCa(dir: string, opts: InitCaOptions = {}): Promise<CaPaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!opts.force) await refuseExisting(dir);
  const [ca, leaf] = await Promise.all([newRsaKey(), newRsaKey()]);
  const caKey = createPrivateKey(ca.privateKey);
  const certPem = buildCaCertificate(ca.publicKey, caKey, (opts.clock ?? systemClock).now(), opts.commonName ?? DEFAULT_CA_COMMON_NAME);
  const paths = { dir, certFile: join(dir, CA_CERT_FILE), keyFile: join(dir, CA_KEY_FILE), leafKeyFile: join(dir, LEAF_KEY_FILE) };
  // Keys first, certificate last: a crash in between leaves no ca.pem, so the next run sees "no CA", not a mismatch.
  await writeFileAtomic(paths.keyFile, ca.privateKey, 0o600);
  await writeFileAtomic(paths.leafKeyFile, leaf.privateKey, 0o600);
  await writeFileAtomic(paths.certFile, certPem, 0o644);
  return { ...paths, fingerprintSha256: new X509Certificate(certPem).fingerprint256 };
}

/** What `portico forward --mitm` calls: the existing CA, or a new one on first run (as mitmproxy does). */
export async function ensureCa(dir: string, clock: Clock = systemClock): Promise<CaMaterial> {
  try {
    return await loadCa(dir, clock);
  } catch (err) {
    // Only a folder with none of the three files gets a fresh CA: a partial or broken one may be the CA a user
    // already installed, and silently replacing it would break every client that trusts it.
    if (!(err instanceof CaError && err.code === 'CA_MISSING')) throw err;
  }
  await initCa(dir, { clock });
  return loadCa(dir, clock);
}

/** The CA certificate as PEM text or DER bytes, for `portico ca export` and the http://portico.ca/ page. */
export async function exportCa(dir: string, format: 'pem' | 'der'): Promise<Buffer> {
  const x509 = await readCaCertificate(dir);
  return format === 'der' ? Buffer.from(x509.raw) : Buffer.from(x509.toString(), 'utf8');
}

async function refuseExisting(dir: string): Promise<void> {
  for (const file of [CA_CERT_FILE, CA_KEY_FILE, LEAF_KEY_FILE]) {
    const exists = await access(join(dir, file)).then(() => true, (err: unknown) => errorCode(err) !== 'ENOENT');
    if (exists) throw new CaError('CA_EXISTS', `a CA already exists in ${dir} (${file}): use --force to replace it`);
  }
}

async function newRsaKey(): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
