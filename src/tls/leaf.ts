import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CaMaterial } from './ca-material.js';
import type { NormalizedHost } from './host.js';
import { DAY_MS, positiveSerial, signNatively } from './sign.js';

const { pki } = forge;

/** Apple and the CA/B Forum cap TLS leaf lifetimes at 398 days; 397 leaves a day of margin for rounding. */
export const MAX_LEAF_VALIDITY_DAYS = 397;
/** X.520 ub-common-name. The SAN carries the full name, which is what clients check anyway. */
const MAX_CN_CHARS = 64;

type Extension = Record<string, unknown>;

export interface LeafTemplate {
  readonly caKey: KeyObject;
  readonly issuer: forge.pki.CertificateField[];
  readonly leafKey: forge.pki.rsa.PublicKey;
  /** Extensions identical for every leaf, encoded once: forge skips re-encoding an extension that has `value`. */
  readonly fixedExtensions: readonly Extension[];
}

export interface BuiltLeaf { certPem: string; notAfter: number; serial: string }

/** Everything about a leaf that does not depend on the host, computed once per issuer. */
export function leafTemplate(ca: CaMaterial): LeafTemplate {
  const probe = pki.createCertificate();
  probe.publicKey = ca.leafKey;
  probe.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    // The same SKI on every leaf is right: it identifies the (shared) key, and it differs from the CA's.
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.subjectKeyIdentifier.toString('binary') },
  ]);
  return { caKey: ca.key, issuer: ca.cert.subject.attributes, leafKey: ca.leafKey, fixedExtensions: probe.extensions as Extension[] };
}

/**
 * Builds a leaf for `host` with the shared public key and signs it natively with the CA key (≈0.5 ms). Valid from a
 * day ago (clients with slow clocks) for `validityDays`, never longer than 397 days counted from notBefore.
 */
export function buildLeaf(t: LeafTemplate, host: NormalizedHost, nowMs: number, validityDays: number): BuiltLeaf {
  const cert = pki.createCertificate();
  cert.publicKey = t.leafKey;
  cert.serialNumber = positiveSerial();
  const notBefore = nowMs - DAY_MS;
  const notAfter = Math.min(nowMs + validityDays * DAY_MS, notBefore + MAX_LEAF_VALIDITY_DAYS * DAY_MS);
  // X.509 times have one-second precision; truncating keeps `notAfter` equal to what the certificate says.
  cert.validity.notBefore = new Date(Math.floor(notBefore / 1000) * 1000);
  cert.validity.notAfter = new Date(Math.floor(notAfter / 1000) * 1000);
  cert.setSubject([{ name: 'commonName', value: host.name.slice(0, MAX_CN_CHARS) }]);
  cert.setIssuer(t.issuer);
  cert.setExtensions([...t.fixedExtensions, subjectAltName(host)]);
  signNatively(cert, t.caKey);
  return { certPem: pki.certificateToPem(cert), notAfter: cert.validity.notAfter.getTime(), serial: cert.serialNumber };
}

/** DNS names as type 2, IPv4 and IPv6 literals as type 7 (http-mitm-proxy gives IPv6 a DNS SAN, which no client accepts). */
function subjectAltName(host: NormalizedHost): Extension {
  const altName = host.kind === 'dns' ? { type: 2, value: host.name } : { type: 7, ip: host.name };
  return { name: 'subjectAltName', altNames: [altName] };
}
