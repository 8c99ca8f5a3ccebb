import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { startForward } from '../../src/forward/server.js';
import { startObservers } from '../../src/observe/observers.js';
import { reverseConfigSchema } from '../../src/reverse/config.js';
import { hashPasswordScrypt } from '../../src/stages/access.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy } from '../helpers/proxy.js';
import { eventually, openRaw, rawExchange, within } from '../helpers/raw-http.js';
import { makeTestPki } from '../helpers/test-pki.js';

/** Security review items (issue 9), each proven over real sockets. */

let origin: Origin;
beforeAll(async () => { origin = await startHttpOrigin(); });
afterAll(async () => origin.close());

describe('no open proxy', () => {
  it('defaults: loopback listener, loopback clients only, no admin endpoint, in both modes', () => {
    const f = validateConfig(forwardConfigSchema, {}, 'test');
    expect(f.listen.host).toBe('127.0.0.1');
    expect(f.access.allowClients).toEqual(['127.0.0.0/8', '::1/128']);
    expect(f.admin.listen).toBeUndefined();
    expect(f.connectPorts).toEqual([443]);
    expect(f.targets.allow).toEqual([]);
    const r = validateConfig(reverseConfigSchema, { pools: { p: { backends: ['127.0.0.1:1'] } } }, 'test');
    for (const l of [r.listen].flat()) expect(l.host).toBe('127.0.0.1');
  });

  it('a client outside access.allowClients (127.0.0.2 vs 127.0.0.1/32) is refused for HTTP, CONNECT and the PAC file', async () => {
    const p = await startTestProxy({ access: { allowClients: ['127.0.0.1/32'] }, connectPorts: [origin.port] });
    try {
      const send = async (bytes: string, from: string): Promise<string> => {
        const c = await openRaw(p.port, from);
        c.socket.write(bytes);
        await within(c.whenClosed, 3000);
        c.socket.destroy();
        return c.received();
      };
      const get = `GET ${origin.url}/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
      const connect = `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const pac = 'GET /proxy.pac HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
      const before = origin.seen.length;
      for (const bytes of [get, connect, pac]) expect(await send(bytes, '127.0.0.2')).toMatch(/^HTTP\/1\.1 403 [\s\S]*FORBIDDEN_CLIENT/);
      expect(origin.seen.length).toBe(before);
      expect(await send(get, '127.0.0.1')).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await p.close(100);
    }
  });
});

describe('SSRF guard: more spellings of loopback, any-address and metadata (beyond forward-security.test.ts)', () => {
  let strict: Awaited<ReturnType<typeof startTestProxy>>;
  beforeAll(async () => { strict = await startTestProxy({ targets: { allow: [] }, connectPorts: [origin.port] }); });
  afterAll(async () => strict.close(100));

  it.each([
    '0x7f000001', '0x7f.0.0.1', '017700000001', '127.000.000.001', '0177.1', '2130706433.', '127.0.0.1.', 'LOCALHOST', 'localhost.',
    '0.0.0.0', '0', '[::1]', '[::]', '[::127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]', '[64:ff9b::7f00:1]',
    '[fe80::1]', '[fd00:ec2::254]', '169.254.169.254',
  ])('%s is refused, for plain HTTP and for CONNECT', async (host) => {
    const before = origin.seen.length;
    const http = await rawExchange(strict.port, `GET http://${host}:${origin.port}/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(http.text).toMatch(/^HTTP\/1\.1 403 [\s\S]*X-Portico-Error: FORBIDDEN_TARGET/);
    const tunnel = await rawExchange(strict.port, `CONNECT ${host}:${origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`, 1000);
    expect(tunnel.text).toMatch(/^HTTP\/1\.1 403 [\s\S]*X-Portico-Error: FORBIDDEN_TARGET/);
    expect(origin.seen.length).toBe(before);
  });

  it('CONNECT is limited to the configured ports (default 443 only)', async () => {
    const p = await startTestProxy({});
    try {
      for (const port of [22, 25, 80, 6379, origin.port]) {
        const r = await rawExchange(p.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: x\r\n\r\n`, 1000);
        expect(r.text).toMatch(/^HTTP\/1\.1 403 [\s\S]*X-Portico-Error: FORBIDDEN_PORT/);
      }
    } finally {
      await p.close(100);
    }
  });
});

describe('CA private key permissions', () => {
  it('a CA created at start has its keys at 0600 in a 0700 folder, and intercepting a host writes no readable key', async () => {
    const certs = join(await mkdtemp(join(tmpdir(), 'portico-sec-ca-')), 'certs');
    const pki = await makeTestPki();
    const secure = await startHttpsOrigin(pki);
    const p = await startTestProxy({ certs, mitm: true, connectPorts: [secure.port], upstream: { ca: pki.caFile } });
    try {
      expect((await stat(certs)).mode & 0o777).toBe(0o700);
      expect((await stat(join(certs, 'ca.key'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(certs, 'leaf.key'))).mode & 0o777).toBe(0o600);
      const r = await curl(['-x', p.url, '--cacert', join(certs, 'ca.pem'), `https://localhost:${secure.port}/echo`]);
      expect(r.status).toBe(200);
      await p.close(100); // flushes the leaf cache to disk
      const files = await readdir(certs, { recursive: true });
      for (const f of files.map(String).filter((name) => /key/i.test(name))) {
        expect((await stat(join(certs, f))).mode & 0o077, f).toBe(0);
      }
    } finally {
      await p.close(100).catch(() => undefined);
      await secure.close();
    }
  });
});

describe('secrets never reach the logs', () => {
  const SECRETS = ['Bearer tok-SECRET-1', 'session=SECRET-2', 'Basic YWxpY2U6d29uZGVybGFuZA==', 'sid=SECRET-4', 'wonderland'];

  it.each(['json', 'squid', 'combined'] as const)('%s access log with headers captured, plus the debug process log', async (format) => {
    const dir = await mkdtemp(join(tmpdir(), `portico-sec-log-${format}-`));
    await writeFile(join(dir, 'users'), `alice:${await hashPasswordScrypt('wonderland')}\n`);
    const cookieOrigin = await startHttpOrigin((_req, res) => {
      res.writeHead(200, { 'Set-Cookie': 'sid=SECRET-4; HttpOnly', 'Content-Type': 'text/plain' });
      res.end('ok');
    });
    const processLog: string[] = [];
    const log = pino({ level: 'trace' }, new Writable({ write(c: Buffer, _e, cb) { processLog.push(c.toString()); cb(); } }));
    const logConfig = { format, headers: true, accessLog: [join(dir, 'access.log')] };
    const config = validateConfig(forwardConfigSchema, {
      listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] }, access: { authFile: join(dir, 'users') }, log: logConfig,
    }, 'test');
    const proxy = await startForward(config, { log });
    const observers = await startObservers(proxy.bus, config, { mode: 'forward', version: 'test', log });
    try {
      const r = await curl(['-x', proxy.url, '--proxy-user', 'alice:wonderland', '-H', 'Authorization: Bearer tok-SECRET-1',
        '-H', 'Cookie: session=SECRET-2', `${cookieOrigin.url}/private`]);
      expect(r.status).toBe(200);
      await observers.accessLog?.flush();
      await eventually(async () => (await readFile(join(dir, 'access.1.log'), 'utf8')).includes('/private'));
      const accessLog = await readFile(join(dir, 'access.1.log'), 'utf8');
      expect(accessLog).toContain('/private');
      for (const secret of SECRETS) {
        expect(accessLog, `${format} access log`).not.toContain(secret);
        expect(processLog.join(''), 'process log').not.toContain(secret);
      }
    } finally {
      await proxy.close(100);
      await observers.close();
      await cookieOrigin.close();
    }
  });
});
