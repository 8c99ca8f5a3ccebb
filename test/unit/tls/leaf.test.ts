import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { systemClock } from '../../../src/core/clock.js';
import type { CaMaterial } from '../../../src/tls/ca.js';
import { CertificateIssuer } from '../../../src/tls/issuer.js';
import { DAY_MS, freshCa, manualClock, removeDir } from './fixtures.js';

let ca: CaMaterial;
let issuer: CertificateIssuer;

beforeAll(async () => {
  ca = await freshCa();
  issuer = new CertificateIssuer(ca, { cacheSize: 10, validityDays: 365, clock: systemClock });
});
afterAll(async () => {
  await removeDir(ca.dir);
});

function leaf(host: string, i: CertificateIssuer = issuer): X509Certificate {
  return new X509Certificate(i.issue(host).certPem);
}

/** forge reads the AKI extension but does not decode it: AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }. */
function authorityKeyId(pem: string): Buffer {
  const ext = forge.pki.certificateFromPem(pem).getExtension('authorityKeyIdentifier') as { value: string };
  const seq = forge.asn1.fromDer(ext.value).value as forge.asn1.Asn1[];
  return Buffer.from(seq[0]?.value as string, 'binary');
}

describe('issued leaf certificates', () => {
  it('are signed by the CA and chain to it', () => {
    const x = leaf('example.test');
    expect(x.verify(ca.x509.publicKey)).toBe(true);
    expect(x.checkIssued(ca.x509)).toBe(true);
    expect(x.issuer).toBe(ca.x509.subject);
    expect(x.ca).toBe(false);
  });

  it.each([
    ['example.test', 'DNS:example.test'],
    ['WWW.Example.Test.', 'DNS:www.example.test'],
    ['127.0.0.1', 'IP Address:127.0.0.1'],
    ['::1', 'IP Address:0:0:0:0:0:0:0:1'],
    ['[2001:db8::7]', 'IP Address:2001:DB8:0:0:0:0:0:7'],
  ])('carry exactly one SAN for %s', (host, san) => {
    expect(leaf(host).subjectAltName).toBe(san);
  });

  it('match their names with node\'s own host and IP checks', () => {
    expect(leaf('example.test').checkHost('example.test')).toBe('example.test');
    expect(leaf('example.test').checkHost('other.test')).toBeUndefined();
    expect(leaf('10.1.2.3').checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(leaf('[::1]').checkIP('::1')).toBe('::1');
    expect(leaf('2001:db8::7').checkIP('2001:db8:0::7')).toBe('2001:db8:0::7');
  });

  it('truncate the CN to 64 characters while the SAN keeps the whole name', () => {
    const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.test`;
    const x = leaf(host);
    expect(x.subject).toBe(`CN=${host.slice(0, 64)}`);
    expect(x.subjectAltName).toBe(`DNS:${host}`);
  });

  it('point their AKI at the CA\'s SKI and carry their own, different SKI', () => {
    const { certPem } = issuer.issue('example.test');
    expect(authorityKeyId(certPem).equals(ca.subjectKeyIdentifier)).toBe(true);
    const ski = forge.pki.certificateFromPem(certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
    expect(ski.subjectKeyIdentifier).not.toBe(ca.subjectKeyIdentifier.toString('hex'));
  });

  it('are server certificates: serverAuth only, digitalSignature + keyEncipherment, not a CA', () => {
    const cert = forge.pki.certificateFromPem(issuer.issue('example.test').certPem);
    expect(leaf('example.test').keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.getExtension('keyUsage')).toMatchObject({ digitalSignature: true, keyEncipherment: true, keyCertSign: false });
    expect(cert.getExtension('basicConstraints')).toMatchObject({ cA: false });
    expect(cert.signatureOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
  });

  it('start a day in the past and last validityDays, reported in notAfter', () => {
    const clock = manualClock();
    const i = new CertificateIssuer(ca, { cacheSize: 1, validityDays: 30, clock });
    const issued = i.issue('example.test');
    const x = new X509Certificate(issued.certPem);
    expect(Date.parse(x.validFrom)).toBeLessThanOrEqual(clock.now() - DAY_MS);
    expect(Date.parse(x.validFrom)).toBeGreaterThan(clock.now() - DAY_MS - 1000);
    expect(Date.parse(x.validTo)).toBe(issued.notAfter);
    expect(Math.abs(issued.notAfter - (clock.now() + 30 * DAY_MS))).toBeLessThan(1000);
  });

  it('never last more than 397 days counted from notBefore', () => {
    const i = new CertificateIssuer(ca, { cacheSize: 1, validityDays: 397, clock: manualClock() });
    const x = new X509Certificate(i.issue('example.test').certPem);
    expect(Date.parse(x.validTo) - Date.parse(x.validFrom)).toBeLessThanOrEqual(397 * DAY_MS);
  });

  it('have 100 distinct positive serials', () => {
    const serials = Array.from({ length: 100 }, () => leaf('example.test').serialNumber);
    expect(new Set(serials).size).toBe(100);
    for (const s of serials) expect(s).toMatch(/^01[0-9A-F]{30}$/);
  });

  it('all use the shared leaf key, which is not the CA key', () => {
    const keys = ['a.test', 'b.test', '127.0.0.1'].map((h) => leaf(h).publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).not.toBe(ca.x509.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
    expect(leaf('a.test').checkPrivateKey(ca.leafPrivateKey)).toBe(true);
    expect(issuer.issue('a.test').keyPem).toBe(ca.leafKeyPem);
  });

  it('are refused for garbage host names', () => {
    expect(() => issuer.issue('bad host')).toThrow(/invalid host name/);
    expect(() => issuer.issue('')).toThrow(/invalid host name/);
  });

  it('are refused an out-of-range configuration', () => {
    expect(() => new CertificateIssuer(ca, { cacheSize: 1, validityDays: 398, clock: systemClock })).toThrow(RangeError);
    expect(() => new CertificateIssuer(ca, { cacheSize: 0, validityDays: 30, clock: systemClock })).toThrow(RangeError);
  });
});
