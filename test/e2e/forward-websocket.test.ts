import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { startHttpOrigin, startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';

let origin: Origin;
let secureOrigin: Origin;
let pki: TestPki;
let proxy: TestProxy;
let certs: string;

beforeAll(async () => {
  pki = await makeTestPki();
  origin = await startHttpOrigin();
  secureOrigin = await startHttpsOrigin(pki);
  certs = await mkdtemp(join(tmpdir(), 'portico-ws-'));
  proxy = await startTestProxy({ certs, mitm: true, connectPorts: [secureOrigin.port], upstream: { ca: pki.caFile } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
  await secureOrigin.close();
});

/** Reads one unmasked server text frame (length < 126) after the 101 head. */
function readUpgradeAndFrame(socket: Socket): Promise<{ head: string; text: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const frame = buf.subarray(end + 4);
      if (frame.length < 2 || frame.length < 2 + (frame[1]! & 0x7f)) return;
      resolve({ head: buf.subarray(0, end).toString('latin1'), text: frame.subarray(2, 2 + (frame[1]! & 0x7f)).toString() });
    });
    socket.once('error', reject);
  });
}

describe('WebSocket through the proxy', () => {
  it('upgrades an absolute-form ws:// request and keeps the subprotocol', async () => {
    const socket = connect(proxy.port, '127.0.0.1');
    socket.write([
      `GET http://127.0.0.1:${origin.port}/ws HTTP/1.1`, `Host: 127.0.0.1:${origin.port}`, 'Connection: Upgrade',
      'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol: chat.v1', '', ''].join('\r\n'));
    const { head, text } = await readUpgradeAndFrame(socket);
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head.toLowerCase()).toContain('sec-websocket-protocol: chat.v1');
    expect(text).toBe('hello chat.v1');
    socket.destroy();
  });

  it('echoes messages over wss:// through an intercepted tunnel', async () => {
    const ca = await readFile(join(certs, 'ca.pem'), 'utf8');
    const tunnel = await openTunnel(proxy.port, `localhost:${secureOrigin.port}`);
    const ws = new WebSocket(`wss://localhost:${secureOrigin.port}/ws`, ['echo.v2'], {
      createConnection: () => tlsConnect({ socket: tunnel.socket, servername: 'localhost', ca }),
    });
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(d.toString()));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(ws.protocol).toBe('echo.v2');
    ws.send('ping through portico');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => { if (messages.length >= 2) { clearInterval(t); resolve(); } }, 10);
    });
    expect(messages).toEqual(['hello echo.v2', 'ping through portico']);
    ws.close();
  });
});
