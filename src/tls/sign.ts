import { randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { pki, asn1 } = forge;

/** forge exports this at runtime but @types/node-forge does not declare it. */
const getTBSCertificate = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;

/**
 * Signs a forge-built certificate with node:crypto instead of `cert.sign()`: forge's pure-JS RSA private-key
 * operation costs 26-30 ms per leaf, the native one about 0.5 ms (LIBRARIES.md §2.4).
 */
export function signNatively(cert: forge.pki.Certificate, key: KeyObject): void {
  cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption ?? '1.2.840.113549.1.1.11';
  cert.signatureOid = cert.siginfo.algorithmOid;
  cert.tbsCertificate = getTBSCertificate(cert);
  const tbsDer = Buffer.from(asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, key).toString('binary');
}

/**
 * A 128-bit positive serial. forge writes the hex as a signed INTEGER (forge#349), so a leading byte ≥ 0x80
 * would make it negative, which Go 1.23+ rejects; the fixed `01` prefix keeps it positive. The randomness comes
 * from the CSPRNG, not the injected `Random`: serials must be unpredictable (CA/B Forum: ≥ 64 random bits).
 */
export function positiveSerial(): string {
  return `01${randomBytes(15).toString('hex')}`;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
