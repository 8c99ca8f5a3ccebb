import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RecordedRequest { method: string; url: string; headers: string[]; body: Buffer }

export interface RecordingBackend {
  readonly port: number;
  readonly address: string;
  /** Every byte received, all connections in order of arrival. */
  bytes(): Buffer;
  /** Requests framed from those bytes by a small strict parser (Content-Length or chunked, nothing else). */
  readonly requests: RecordedRequest[];
  /** Bytes left unparsed at the end of a connection (an incomplete request). */
  readonly leftovers: Buffer[];
  close(): Promise<void>;
}

/**
 * A raw TCP backend that records the exact bytes it receives and answers each request it can frame with
 * `200 ok` — so a test can compare what the proxy forwarded with what the proxy logged.
 */
export async function startRecordingBackend(): Promise<RecordingBackend> {
  const chunks: Buffer[] = [];
  const requests: RecordedRequest[] = [];
  const leftovers: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const parsed = frameRequest(pending);
        if (!parsed) break;
        requests.push(parsed.request);
        pending = pending.subarray(parsed.used);
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      if (pending.length > 0) leftovers.push(pending);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port, address: `127.0.0.1:${port}`, requests, leftovers,
    bytes: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One request from the front of `buf`, or undefined while incomplete. */
export function frameRequest(buf: Buffer): { request: RecordedRequest; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const [method = '', url = ''] = (lines[0] ?? '').split(' ');
  const headers = lines.slice(1);
  const field = (name: string): string | undefined =>
    headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  let pos = end + 4;
  if (field('transfer-encoding')?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return undefined;
      const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
      if (Number.isNaN(size)) throw new Error('backend: bad chunk size');
      if (buf.length < eol + 2 + size + 2) return undefined;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
      if (size === 0) break;
    }
    return { request: { method, url, headers, body: Buffer.concat(parts) }, used: pos };
  }
  const length = Number(field('content-length') ?? 0);
  if (buf.length < pos + length) return undefined;
  return { request: { method, url, headers, body: buf.subarray(pos, pos + length) }, used: pos + length };
}

export interface RawExchange {
  /** Everything the server sent before closing (or before the wait ran out). */
  text: string;
  /** True when the server closed the connection. */
  closed: boolean;
  /** Status codes of the responses in `text`, in order. */
  statuses: number[];
}

/** Writes hand-written bytes to host:port and collects the answer until the server closes or `waitMs` pass. */
export async function rawExchange(port: number, bytes: string | Buffer, waitMs = 2000, endAfterWrite = false): Promise<RawExchange> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  if (endAfterWrite) socket.end(bytes);
  else socket.write(bytes);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
  });
  socket.destroy();
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  return { text, closed, statuses };
}

/** A raw connection from a chosen loopback address (127.0.0.2 … count as other clients), kept open. */
export async function openRaw(port: number, localAddress = '127.0.0.1'): Promise<{ socket: Socket; received(): string; closed(): boolean; whenClosed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let text = '';
  let isClosed = false;
  socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  socket.on('error', () => undefined);
  const whenClosed = new Promise<void>((resolve) => socket.once('close', () => { isClosed = true; resolve(); }));
  await Promise.race([once(socket, 'connect'), whenClosed]);
  return { socket, received: () => text, closed: () => isClosed, whenClosed };
}

/** Waits for a promise at most `ms`; true when it settled in time. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls an async predicate until it holds (every 50 ms, at most `timeoutMs`); throws when it never does. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 50));
  }
}
