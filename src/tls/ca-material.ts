import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import forge from 'node-forge';
import { systemClock, type Clock } from '../core/clock.js';
import { errorCode, errorMessage, readSmallText, type ReadText } from './files.js';
import { DAY_MS } from './sign.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key';
export const LEAF_KEY_FILE = 'leaf.key';
const CA_FILES = [CA_CERT_FILE, CA_KEY_FILE, LEAF_KEY_FILE] as const;
/** Warn this long before the CA expires: every device that trusts it needs the new one installed. */
const EXPIRY_WARNING_DAYS = 30;

export type CaErrorCode = 'CA_MISSING' | 'CA_INCOMPLETE' | 'CA_UNREADABLE' | 'CA_CORRUPT' | 'CA_EXISTS';

/** A CA problem the user can act on; `code` lets `ensureCa` create a CA only when there is none at all. */
export class CaError extends Error {
  override readonly name = 'CaError';
  constructor(readonly code: CaErrorCode, message: string) {
    super(message);
  }
}

export interface CaMaterial {
  readonly dir: string;
  readonly certPem: string;
  readonly cert: forge.pki.Certificate;
  readonly x509: X509Certificate;
  readonly keyPem: string;
  /** The CA private key, parsed once: signing with a KeyObject skips a PEM parse per leaf. */
  readonly key: KeyObject;
  readonly leafKeyPem: string;
  /** The shared leaf key: its private half for checking cached leaves, its public half for building new ones. */
  readonly leafPrivateKey: KeyObject;
  readonly leafKey: forge.pki.rsa.PublicKey;
  /** The CA's SKI bytes, copied into every leaf's AKI (Python 3.13 strict mode requires an AKI). */
  readonly subjectKeyIdentifier: Buffer;
  /** `AB:CD:…`, as browsers and `openssl x509 -fingerprint -sha256` show it. */
  readonly fingerprintSha256: string;
  /** Problems worth logging that do not stop interception (loose key modes, expiry coming up). */
  readonly warnings: string[];
}

/** Reads and checks `ca.pem`, `ca.key` and `leaf.key` in `dir`; every failure names the file and the reason. */
export async function loadCa(dir: string, clock: Clock = systemClock): Promise<CaMaterial> {
  const settled = await Promise.allSettled(CA_FILES.map((f) => readSmallText(join(dir, f))));
  const missing = CA_FILES.filter((_, i) => isMissing(settled[i]));
  if (missing.length === CA_FILES.length) throw new CaError('CA_MISSING', `no CA in ${dir}: run "portico ca init"`);
  if (missing.length > 0) {
    throw new CaError('CA_INCOMPLETE', `incomplete CA in ${dir}: ${missing.join(', ')} missing; run "portico ca init --force" to create a new one`);
  }
  const [cert, key, leaf] = settled.map((r, i) => unwrap(r, join(dir, CA_FILES[i] ?? '')));
  if (!cert || !key || !leaf) throw new CaError('CA_UNREADABLE', `cannot read the CA in ${dir}`);
  return parseCa(dir, cert, key, leaf, clock.now());
}

/** Reads `ca.pem` alone (for export), with the same errors as `loadCa`. */
export async function readCaCertificate(dir: string): Promise<X509Certificate> {
  const path = join(dir, CA_CERT_FILE);
  const [result] = await Promise.allSettled([readSmallText(path)]);
  if (isMissing(result)) throw new CaError('CA_MISSING', `no CA in ${dir}: run "portico ca init"`);
  const text = unwrap(result, path).text;
  return parseFile(path, () => new X509Certificate(text));
}

function isMissing(r: PromiseSettledResult<ReadText> | undefined): boolean {
  return r?.status === 'rejected' && errorCode(r.reason) === 'ENOENT';
}

function unwrap(r: PromiseSettledResult<ReadText> | undefined, path: string): ReadText {
  if (r?.status === 'fulfilled') return r.value;
  const reason: unknown = r?.reason;
  const code = errorCode(reason);
  throw new CaError('CA_UNREADABLE', `cannot read ${path}: ${code === 'EACCES' ? 'permission denied' : errorMessage(reason)}`);
}

function parseFile<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new CaError('CA_CORRUPT', `corrupt ${path}: ${errorMessage(err)}`);
  }
}

function parseCa(dir: string, certFile: ReadText, keyFile: ReadText, leafFile: ReadText, nowMs: number): CaMaterial {
  const certPath = join(dir, CA_CERT_FILE);
  const x509 = parseFile(certPath, () => new X509Certificate(certFile.text));
  if (!x509.ca) throw new CaError('CA_CORRUPT', `corrupt ${certPath}: not a CA certificate (basicConstraints cA is not set)`);
  const cert = parseFile(certPath, () => forge.pki.certificateFromPem(certFile.text));
  const key = parseFile(join(dir, CA_KEY_FILE), () => createPrivateKey(keyFile.text));
  if (!x509.checkPrivateKey(key)) throw new CaError('CA_CORRUPT', `corrupt ${join(dir, CA_KEY_FILE)}: it is not the key of ${certPath}`);
  const leafPath = join(dir, LEAF_KEY_FILE);
  const leafPrivateKey = parseFile(leafPath, () => rsaKey(createPrivateKey(leafFile.text)));
  const leafKey = parseFile(leafPath, () => forge.pki.publicKeyFromPem(createPublicKey(leafPrivateKey).export({ type: 'spki', format: 'pem' }).toString()));
  const material = {
    dir, certPem: x509.toString(), cert, x509, keyPem: keyFile.text, key, leafKeyPem: leafFile.text, leafPrivateKey, leafKey,
    subjectKeyIdentifier: subjectKeyIdentifier(cert), fingerprintSha256: x509.fingerprint256,
  };
  return { ...material, warnings: caWarnings(dir, { key: keyFile, leaf: leafFile }, material, nowMs) };
}

/** The leaves are built as RSA certificates (sha256WithRSAEncryption key slot), so the shared key must be RSA. */
function rsaKey(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`expected an RSA key, found ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** The SKI the CA carries (so AKI matches what clients see), computed RFC 5280-style if an imported CA lacks one. */
function subjectKeyIdentifier(cert: forge.pki.Certificate): Buffer {
  const ext = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  if (ext?.subjectKeyIdentifier) return Buffer.from(ext.subjectKeyIdentifier, 'hex');
  return Buffer.from(cert.generateSubjectKeyIdentifier().getBytes(), 'binary');
}

interface WarningInput { x509: X509Certificate; key: KeyObject; leafPrivateKey: KeyObject }

function caWarnings(dir: string, files: { key: ReadText; leaf: ReadText }, m: WarningInput, nowMs: number): string[] {
  const warnings: string[] = [];
  // POSIX permission bits mean nothing on Windows, where every file reports 0666.
  if (process.platform !== 'win32') {
    if (files.key.mode & 0o077) warnings.push(`${join(dir, CA_KEY_FILE)} is readable by others (mode ${files.key.mode.toString(8)}): chmod 600 it`);
    if (files.leaf.mode & 0o077) warnings.push(`${join(dir, LEAF_KEY_FILE)} is readable by others (mode ${files.leaf.mode.toString(8)}): chmod 600 it`);
  }
  if (m.leafPrivateKey.equals(m.key)) {
    warnings.push(`${join(dir, LEAF_KEY_FILE)} is the CA key: leaves and CA then share a key identifier, which Windows rejects`);
  }
  const notAfter = Date.parse(m.x509.validTo);
  if (notAfter <= nowMs) warnings.push(`the CA in ${dir} expired on ${m.x509.validTo}: run "portico ca init --force" and reinstall it`);
  else if (notAfter - nowMs < EXPIRY_WARNING_DAYS * DAY_MS) warnings.push(`the CA in ${dir} expires on ${m.x509.validTo}`);
  return warnings;
}
