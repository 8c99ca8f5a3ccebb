import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Body } from '../../../src/core/flow.js';
import { streamBytes } from '../../helpers/origin.js';

/** Servers for the socket-level upstream tests; all bind 127.0.0.1:0. */
export interface Started<S> { server: S; port: number; connections: () => number; close: () => Promise<void> }

export async function listen<S extends Server | NetServer>(server: S): Promise<Started<S>> {
  let count = 0;
  server.on('connection', () => count++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> => new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
  return { server, port, connections: () => count, close };
}

export function originHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
  if (bytes) return streamBytes(res, Number(bytes[1]));
  if (url.pathname === '/hang') return;
  if (url.pathname === '/empty') {
    res.writeHead(204).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    res.writeHead(200, ['Content-Type', 'application/json', 'X-Resp-CaSe', 'kept']);
    res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body }));
  });
}

export const startOrigin = (): Promise<Started<Server>> => listen(createServer(originHandler));

export interface SelfSigned { certFile: string; cert: string; key: string }

/** A self-signed certificate for localhost / 127.0.0.1, made by openssl (not by Portico). */
export async function selfSigned(): Promise<SelfSigned> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-origin-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2']);
  return { certFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

export const startHttpsOrigin = (tls: SelfSigned): Promise<Started<Server>> =>
  listen(createHttps({ cert: tls.cert, key: tls.key }, originHandler));

export async function readAll(body: Body | Uint8Array | Readable | null): Promise<string> {
  if (!body) return '';
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8'); // a body that had fully arrived (bufferComplete)
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
