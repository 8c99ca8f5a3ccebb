import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeConfig, validateConfig, type PlainObject } from '../../src/config/load.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { startBackend, startTestReverse, type TestBackend, type TestReverse } from '../helpers/reverse.js';

const run = promisify(execFile);
let pki: TestPki;
let backend: TestBackend;
let proxy: TestReverse;
let config: PlainObject;

/** A leaf for `names` signed by the test CA (openssl, not Portico's code): returns its cert and key paths. */
async function leaf(id: string, names: string[]): Promise<{ cert: string; key: string }> {
  const p = (f: string): string => join(pki.dir, `${id}.${f}`);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('key'), '-out', p('csr'), '-subj', `/CN=${names[0] ?? id}`]);
  await writeFile(p('ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  // A serial of its own per leaf: the leaves are signed concurrently, and -CAcreateserial races on the shared ca.srl
  // ("Unable to load number from ca.srl" when one openssl reads the file another is writing).
  await run('openssl', ['x509', '-req', '-in', p('csr'), '-CA', pki.caFile, '-CAkey', join(pki.dir, 'ca.key'), '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-out', p('pem'), '-extfile', p('ext'), '-days', '2']);
  return { cert: p('pem'), key: p('key') };
}

beforeAll(async () => {
  pki = await makeTestPki();
  const [def, shop, wild] = await Promise.all([leaf('default', ['default.test']), leaf('shop', ['shop.test']), leaf('wild', ['*.api.test'])]);
  backend = await startBackend('b1', (req, res) => {
    res.end(`${req.headers['x-forwarded-proto'] ?? '-'} ${req.headers.host ?? '-'} ${req.url ?? ''}`);
  });
  config = {
    listen: ['127.0.0.1:0', { address: '127.0.0.1:0', tls: { ...def, certificates: [shop, wild] } }],
    pools: { web: { backends: [backend.address] } },
  };
  proxy = await startTestReverse(config);
}, 30_000);

afterAll(async () => {
  await proxy?.close(1000);
  await backend?.close();
});

function tlsPort(): number {
  const l = proxy.listeners.find((x) => x.tls);
  if (!l) throw new Error('no TLS listener');
  return l.port;
}

/** A TLS handshake naming `servername` (or none): the certificate we got and the ALPN protocol chosen. */
async function handshake(servername: string | undefined): Promise<{ names: string; alpn: string | false; fingerprint: string }> {
  const sock = connect({ host: '127.0.0.1', port: tlsPort(), ca: pki.caCert, ALPNProtocols: ['h2', 'http/1.1'],
    ...(servername === undefined ? { checkServerIdentity: () => undefined } : { servername }) });
  await once(sock, 'secureConnect');
  const cert: PeerCertificate = sock.getPeerCertificate();
  const out = { names: cert.subjectaltname ?? '', alpn: sock.alpnProtocol ?? false, fingerprint: cert.fingerprint256 };
  sock.destroy();
  return out;
}

function get(servername: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: tlsPort(), servername, path, ca: pki.caCert, headers: { host: servername } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS listeners', () => {
  it('lists both listeners; the plain one still serves HTTP', async () => {
    expect(proxy.listeners.map((l) => l.tls)).toEqual([false, true]);
    expect(proxy.listeners[1]?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${proxy.url}/plain`)).text()).toMatch(/^http 127\.0\.0\.1:\d+ \/plain$/);
  });

  it('picks the certificate by SNI: exact name, wildcard (one label), and the default otherwise', async () => {
    expect((await handshake('shop.test')).names).toBe('DNS:shop.test');
    expect((await handshake('v1.api.test')).names).toBe('DNS:*.api.test');
    expect((await handshake('a.b.api.test').catch(() => ({ names: 'refused' }))).names).toBe('refused'); // default cert: name mismatch
    expect((await handshake(undefined)).names).toBe('DNS:default.test');
  });

  it('negotiates HTTP/1.1 by ALPN even when the client prefers h2', async () => {
    expect((await handshake('shop.test')).alpn).toBe('http/1.1');
  });

  it('a verified client request is proxied with X-Forwarded-Proto: https', async () => {
    const res = await get('shop.test', '/secure?x=1');
    expect(res.status).toBe(200);
    expect(res.body).toBe('https shop.test /secure?x=1');
  });

  it('a reload reads the certificate files again (rotation without a restart); a broken file keeps the old ones', async () => {
    const before = await handshake('shop.test');
    const beforeDefault = await handshake(undefined);
    await leaf('shop', ['shop.test']); // a new key and certificate written over the same files
    await leaf('default', ['default.test']);
    const cfg = validateConfig(reverseConfigSchema, mergeConfig({ log: { level: 'silent' } }, config), 'test');
    await proxy.reload(cfg);
    const after = await handshake('shop.test');
    expect(after.names).toBe('DNS:shop.test');
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect((await handshake(undefined)).fingerprint).not.toBe(beforeDefault.fingerprint); // the default context too
    await writeFile(join(pki.dir, 'shop.pem'), 'not a certificate');
    await expect(proxy.reload(cfg)).rejects.toThrow(/shop\.pem/);
    expect((await handshake('shop.test')).fingerprint).toBe(after.fingerprint);
  });
});
