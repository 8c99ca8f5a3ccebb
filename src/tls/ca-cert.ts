import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { DAY_MS, positiveSerial, signNatively } from './sign.js';

const { pki } = forge;

export const CA_VALIDITY_YEARS = 10;
export const DEFAULT_CA_COMMON_NAME = 'Portico CA';

/**
 * The root certificate users install. Long-lived (10 years) because re-installing a root is a chore on every
 * device; `pathLenConstraint: 0` so that, if the key ever leaks, it can sign leaves but not a sub-CA; both
 * constraint extensions critical, as RFC 5280 asks for a CA. CN comes first so tools print "CN=Portico CA; …".
 */
export function buildCaCertificate(publicKeyPem: string, privateKey: KeyObject, nowMs: number, commonName: string): string {
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = positiveSerial();
  // Backdated a day so a client whose clock runs slow still accepts it the moment it is created.
  cert.validity.notBefore = new Date(nowMs - DAY_MS);
  const notAfter = new Date(nowMs);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  cert.validity.notAfter = notAfter;
  // No C=: http-mitm-proxy's "C=Internet" is not an ISO 3166 code, and strict parsers reject it.
  const name = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Portico' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signNatively(cert, privateKey);
  return pki.certificateToPem(cert);
}
