import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandler, startHttpOrigin, startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';

/**
 * Issue 3: a policy reload does not drop connections. A keep-alive client connection opened before the reload
 * carries on after it on the SAME socket, and its next request gets the NEW decision (plain HTTP and inside an
 * intercepted tunnel); an exchange in flight during the reload completes. Reloads are on demand (what SIGHUP calls,
 * after editing the file): the file watcher is off so no second, late reload races the edits (policy-reload.test.ts
 * covers the watcher).
 */

const rule = (path: string): string => `rules:\n  - { id: r, action: block, path: "${path}" }\n`;

let dir: string;
let pki: TestPki;
let certs: string;
let origin: Origin;
let httpsOrigin: Origin;
let proxy: TestProxy;
let releaseSlow: () => void = () => undefined;
let slowArrived: () => void = () => undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-'));
  certs = await mkdtemp(join(tmpdir(), 'portico-certs-'));
  await writeFile(join(dir, 'policy.yaml'), rule('/echo/none'));
  pki = await makeTestPki();
  // /slow answers only when the test releases it (an exchange in flight across a reload).
  origin = await startHttpOrigin((req, res, body) => {
    if (req.url !== '/slow') return defaultHandler(req, res, body);
    slowArrived();
    releaseSlow = () => res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '4' }).end('done');
  });
  httpsOrigin = await startHttpsOrigin(pki);
  proxy = await startTestProxy({
    policy: { rules: dir, watch: false }, certs, mitm: { enabled: true }, connectPorts: [httpsOrigin.port], upstream: { ca: pki.caFile },
  });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
  await httpsOrigin.close();
  await rm(dir, { recursive: true, force: true });
  await rm(certs, { recursive: true, force: true });
  await rm(pki.dir, { recursive: true, force: true });
});

/** One GET through the proxy with a keep-alive agent; which socket carried it and whether it was reused. */
function get(agent: Agent, path: string): Promise<{ status: number; socket: Socket; reused: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, path: `http://127.0.0.1:${origin.port}${path}`, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
        resolve({ status: res.statusCode ?? 0, socket: req.socket as Socket, reused: req.reusedSocket, body });
      });
    });
    req.on('error', reject).end();
  });
}

/** Reads one HTTP/1.1 response (Content-Length or chunked) from a socket that stays open. */
function readResponse(socket: TLSSocket): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (): boolean => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const head = buf.slice(0, end);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length) return Buffer.byteLength(buf.slice(end + 4), 'latin1') >= Number(length[1]);
      return /\r\ntransfer-encoding:\s*chunked/i.test(head) && buf.endsWith('\r\n0\r\n\r\n');
    };
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (!done()) return;
      socket.off('data', onData).off('close', onClose);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 0), text: buf });
    };
    const onClose = (): void => reject(new Error(`connection closed; received: ${buf.slice(0, 200)}`));
    socket.on('data', onData).once('close', onClose);
  });
}

describe('policy reload keeps connections', () => {
  it('plain HTTP: the next request on the same keep-alive socket gets the new decision', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, '/echo/a');
      expect(first.status).toBe(200);
      await writeFile(join(dir, 'policy.yaml'), rule('/echo/a'));
      expect(await proxy.reloadPolicy()).toBe(true);
      const second = await get(agent, '/echo/a');
      expect(second.status).toBe(403);
      expect(second.body).toContain('rule: r');
      expect([second.reused, second.socket === first.socket]).toEqual([true, true]);
      await writeFile(join(dir, 'policy.yaml'), rule('/echo/b'));
      expect(await proxy.reloadPolicy()).toBe(true);
      const third = await get(agent, '/echo/a');
      expect(third.status).toBe(200);
      expect([third.reused, third.socket === first.socket]).toEqual([true, true]);
      const fourth = await get(agent, '/echo/b');
      expect([fourth.status, fourth.socket === first.socket]).toEqual([403, true]);
    } finally {
      agent.destroy();
    }
  });

  it('an exchange in flight during a reload completes', async () => {
    await writeFile(join(dir, 'policy.yaml'), rule('/echo/none'));
    expect(await proxy.reloadPolicy()).toBe(true);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const arrived = new Promise<void>((resolve) => { slowArrived = resolve; });
      const pending = get(agent, '/slow');
      await arrived;
      await writeFile(join(dir, 'policy.yaml'), rule('/slow'));
      expect(await proxy.reloadPolicy()).toBe(true);
      releaseSlow();
      const r = await pending;
      expect([r.status, r.body]).toEqual([200, 'done']);
      const next = await get(agent, '/slow');
      expect([next.status, next.reused, next.socket === r.socket]).toEqual([403, true, true]);
    } finally {
      agent.destroy();
    }
  });

  it('intercepted HTTPS: the next request on the same TLS connection gets the new decision', async () => {
    await writeFile(join(dir, 'policy.yaml'), rule('/echo/none'));
    expect(await proxy.reloadPolicy()).toBe(true);
    const t = await openTunnel(proxy.port, `localhost:${httpsOrigin.port}`);
    expect(t.status).toBe(200);
    const socket = tlsConnect({ socket: t.socket, ca: await readFile(join(certs, 'ca.pem'), 'utf8'), servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const send = (path: string): Promise<{ status: number; text: string }> => {
        const answer = readResponse(socket);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost:${httpsOrigin.port}\r\n\r\n`);
        return answer;
      };
      expect((await send('/echo/x')).status).toBe(200);
      await writeFile(join(dir, 'policy.yaml'), rule('/echo/x'));
      expect(await proxy.reloadPolicy()).toBe(true);
      const blocked = await send('/echo/x');
      expect(blocked.status).toBe(403);
      expect(blocked.text).toContain('rule: r');
      expect((await send('/echo/y')).status).toBe(200); // the connection survived the block page too
      expect(httpsOrigin.seen.map((s) => s.url)).toEqual(['/echo/x', '/echo/y']);
    } finally {
      socket.destroy();
    }
  });
});
