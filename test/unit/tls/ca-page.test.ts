import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { caPage, caPageRoutes, type CaPageResponse } from '../../../src/forward/ca-page.js';
import type { CaMaterial } from '../../../src/tls/ca.js';
import { freshCa, removeDir } from './fixtures.js';

let ca: CaMaterial;
let route: (path: string) => CaPageResponse;

beforeAll(async () => {
  ca = await freshCa();
  route = caPageRoutes(ca);
});
afterAll(async () => {
  await removeDir(ca.dir);
});

function header(r: CaPageResponse, name: string): string | undefined {
  return r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

describe('caPage', () => {
  const html = caPage({ fingerprintSha256: 'AB:CD:<script>' });

  it('links both downloads and shows the (escaped) fingerprint', () => {
    expect(html).toContain('href="/portico-ca.pem"');
    expect(html).toContain('href="/portico-ca.crt"');
    expect(html).toContain('AB:CD:&#60;script&#62;');
    expect(html).not.toContain('<script>');
  });

  it.each([
    'certutil -addstore', 'Trusted Root Certification Authorities', 'security add-trusted-cert',
    '/usr/local/share/ca-certificates', 'update-ca-certificates', 'trust anchor',
    'certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n portico -i', 'Firefox', 'Android', 'iOS',
  ])('explains %s', (text) => {
    expect(html).toContain(text);
  });
});

describe('caPageRoutes', () => {
  it('serves the page at /', () => {
    const r = route('/');
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toBe('text/html; charset=utf-8');
    expect(r.body.toString('utf8')).toContain(ca.fingerprintSha256);
    expect(header(r, 'content-length')).toBe(String(r.body.length));
  });

  it('serves the PEM as an attachment', () => {
    const r = route('/portico-ca.pem');
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toBe('application/x-pem-file');
    expect(header(r, 'content-disposition')).toBe('attachment; filename="portico-ca.pem"');
    expect(new X509Certificate(r.body).fingerprint256).toBe(ca.fingerprintSha256);
  });

  it('serves the DER as a CA certificate', () => {
    const r = route('/portico-ca.crt');
    expect(header(r, 'content-type')).toBe('application/x-x509-ca-cert');
    expect(r.body.equals(ca.x509.raw)).toBe(true);
  });

  it('answers 404 for anything else', () => {
    const r = route('/nope');
    expect(r.status).toBe(404);
    expect(r.body.toString('utf8')).toContain('portico-ca.pem');
  });

  it('hands out headers the caller may change without affecting later answers', () => {
    route('/').headers.push(['X-Extra', '1']);
    expect(header(route('/'), 'x-extra')).toBeUndefined();
  });
});
