import type { Socket } from 'node:net';
import type { ProxyError } from '../core/errors.js';

/** Writes a complete HTTP/1.1 error response on a raw socket (CONNECT, upgrade) and closes it. */
export function rawErrorReply(socket: Socket, error: ProxyError, requestId: string, extraHeaders: string[] = []): void {
  if (socket.destroyed) return;
  const body = `${error.status} ${error.title}: ${error.message}\nerror: ${error.code}\nrequest-id: ${requestId}\n`;
  const head = [
    `HTTP/1.1 ${error.status} ${error.title}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Portico-Error: ${error.code}`,
    'Connection: close',
    ...extraHeaders,
  ].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
}
