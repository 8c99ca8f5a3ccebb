import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { buildConnector } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool, type H1PoolOptions } from '../../../src/upstream/h1/pool.js';
import type { H1DispatchOptions } from '../../../src/upstream/h1/types.js';

/**
 * Portico's HTTP/1.1 client against raw TCP servers that answer byte for byte what each test needs: framing, 1xx,
 * close-delimited bodies, servers that go silent or close under a request.
 */
interface Raw { port: number; connections: () => number; requests: string[]; close: () => Promise<void> }

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A server whose `answer` sees each request's bytes (head and body, as they arrive) and writes what it wants. */
async function raw(answer: (socket: Socket, request: string, index: number) => void): Promise<Raw> {
  let count = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      // One request per head; a body, if any, is handed over with it when the test's server waits for it.
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end + 4);
      const len = /content-length: (\d+)/i.exec(head);
      const chunked = /transfer-encoding: chunked/i.test(head);
      const rest = buf.slice(end + 4);
      if (len && rest.length < Number(len[1])) return;
      if (chunked && !rest.includes('0\r\n\r\n')) return;
      const bodyEnd = len ? end + 4 + Number(len[1]) : chunked ? end + 4 + rest.indexOf('0\r\n\r\n') + 5 : end + 4;
      const request = buf.slice(0, bodyEnd);
      buf = buf.slice(bodyEnd);
      requests.push(request);
      answer(socket, request, requests.length - 1);
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  cleanup.push(close);
  return { port, connections: () => count, requests, close };
}

function pool(port: number, patch: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({
    protocol: 'http:', hostname: '127.0.0.1', port, name: `127.0.0.1:${port}`, connections: 4, keepAliveTimeoutMs: 5_000,
    headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, queueTimeoutMs: 0, maxHeaderBytes: 16 * 1024,
    connect: buildConnector({ timeout: 2_000 }), ...patch,
  });
  cleanup.push(() => p.destroy());
  return p;
}

interface Result { status?: number; headers?: string[]; body: Buffer; error?: Error & { code?: string }; sawConnect: boolean }

function send(p: H1Pool, opts: Partial<H1DispatchOptions> = {}, onData?: (chunk: Buffer, resume: () => void) => boolean): Promise<Result> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const r: Result = { body: Buffer.alloc(0), sawConnect: false };
    let resume: () => void = () => undefined;
    p.dispatch({ method: 'GET', path: '/', headers: ['host', 'origin.test'], body: null, ...opts }, {
      onConnect() { r.sawConnect = true; },
      onHeaders(status, headers, res) {
        r.status = status;
        r.headers = [...headers];
        resume = res;
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        return onData ? onData(chunk, resume) : true;
      },
      onComplete() {
        r.body = Buffer.concat(chunks);
        resolve(r);
      },
      onError(err) {
        r.error = err;
        r.body = Buffer.concat(chunks);
        resolve(r);
      },
    });
  });
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('h1 pool', () => {
  it('reuses one keep-alive connection for requests in sequence, and sends the head as given', async () => {
    const s = await raw((socket) => socket.write(ok('hello', 'X-Case: Kept\r\n')));
    const p = pool(s.port);
    for (let i = 0; i < 3; i++) {
      const r = await send(p, { path: `/n/${i}` });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello');
      expect(r.headers).toEqual(['Content-Length', '5', 'X-Case', 'Kept']);
    }
    expect(s.connections()).toBe(1);
    expect(s.requests[2]).toBe('GET /n/2 HTTP/1.1\r\nhost: origin.test\r\n\r\n');
    expect(p.stats()).toMatchObject({ connected: 1, free: 1, pending: 0 });
  });

  it('reads chunked and close-delimited bodies, and does not reuse a connection the server closes', async () => {
    const s = await raw((socket, _req, i) => {
      if (i === 0) socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n');
      else socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    });
    const p = pool(s.port);
    expect((await send(p)).body.toString()).toBe('abcde');
    const r = await send(p);
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe('until the end');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.stats().connected).toBe(0);
    expect((await send(p)).body.toString()).toBe('until the end');
    expect(s.connections()).toBe(2);
  });

  it('skips 1xx responses, reads no body for HEAD, 204 and 304, and keeps the connection for the next request', async () => {
    const s = await raw((socket, req) => {
      if (req.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      else if (req.includes('/204')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (req.includes('/304')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
      else socket.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${ok('final')}`);
    });
    const p = pool(s.port);
    const first = await send(p);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('final');
    const head = await send(p, { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200 });
    expect(head.body.length).toBe(0);
    expect((await send(p, { path: '/204' })).status).toBe(204);
    expect((await send(p, { path: '/304' })).status).toBe(304);
    expect((await send(p)).body.toString()).toBe('final');
    expect(s.connections()).toBe(1);
  });

  it('streams a request body with its length, or chunked without one, and fails a body that breaks its length', async () => {
    const s = await raw((socket) => socket.write(ok('got')));
    const p = pool(s.port);
    const fixed = await send(p, { method: 'PUT', headers: ['host', 'h', 'Content-Length', '6'], body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) });
    expect(fixed.status).toBe(200);
    expect(s.requests[0]).toBe('PUT / HTTP/1.1\r\nhost: h\r\nContent-Length: 6\r\n\r\nabcdef');
    await send(p, { method: 'POST', headers: ['host', 'h'], body: Readable.from([Buffer.from('abc'), Buffer.from('de')]) });
    expect(s.requests[1]).toBe('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    const long = await send(p, { method: 'PUT', headers: ['host', 'h', 'Content-Length', '2'], body: Readable.from([Buffer.from('abc')]) });
    expect(long.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    const short = await send(p, { method: 'PUT', headers: ['host', 'h', 'Content-Length', '9'], body: Readable.from([Buffer.from('abc')]) });
    expect(short.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
  });

  it('sends nothing for a request whose body fails before its first byte, even while it waited for a connection', async () => {
    const s = await raw((socket) => socket.write(ok('x')));
    const p = pool(s.port);
    const failing = new Readable({ read() { this.destroy(new Error('client cut off')); } });
    const r = await send(p, { method: 'POST', headers: ['host', 'h'], body: failing });
    expect(r.error?.message).toBe('client cut off');
    const gone = new Readable({ read() { /* never */ } });
    gone.destroy(); // closed without an error before the pool had a connection for it
    const r2 = await send(p, { method: 'POST', headers: ['host', 'h'], body: gone });
    expect(r2.error?.code).toBe('UND_ERR_ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(s.requests).toEqual([]);
    await p.close(); // nothing left behind: close resolves
  });

  it('refuses a header value with CR LF before writing anything', async () => {
    const s = await raw((socket) => socket.write(ok('x')));
    const p = pool(s.port);
    const r = await send(p, { headers: ['host', 'h', 'X-A', 'v\r\nGET /smuggled HTTP/1.1'] });
    expect(r.error?.code).toBe('UND_ERR_INVALID_ARG');
    expect(r.sawConnect).toBe(false);
    expect(s.connections()).toBe(0);
  });

  it('times out a silent server (headers) and a stalled body, with undici\'s codes', async () => {
    const s = await raw((socket, req) => {
      if (req.includes('/stall')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    });
    const p = pool(s.port, { headersTimeoutMs: 150, bodyTimeoutMs: 150 });
    const started = Date.now();
    const silent = await send(p);
    expect(silent.error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const stalled = await send(p, { path: '/stall' });
    expect(stalled.status).toBe(200);
    expect(stalled.body.toString()).toBe('abc');
    expect(stalled.error?.code).toBe('UND_ERR_BODY_TIMEOUT');
  });

  it('fails a request that waits in the queue past queueTimeoutMs, and serves the queue in order otherwise', async () => {
    const s = await raw((socket, req) => {
      if (req.includes('/slow')) setTimeout(() => socket.write(ok('slow')), 300);
      else socket.write(ok('fast'));
    });
    const p = pool(s.port, { connections: 1, queueTimeoutMs: 100 });
    const slow = send(p, { path: '/slow' });
    const queued = await send(p);
    expect(queued.error?.message).toMatch(/no free connection to backend 127\.0\.0\.1:\d+ within 100 ms/);
    expect((await slow).body.toString()).toBe('slow');
    const p2 = pool(s.port, { connections: 1, queueTimeoutMs: 0 });
    const order: string[] = [];
    await Promise.all([send(p2, { path: '/slow' }), send(p2, { path: '/a' }), send(p2, { path: '/b' })].map((x) => x.then((r) => order.push(r.body.toString()))));
    expect(order).toEqual(['slow', 'fast', 'fast']);
    expect(s.requests.slice(-2).map((r) => r.split(' ')[1])).toEqual(['/a', '/b']);
  });

  it('reports a reset on a reused connection with the bytes it had read (the keep-alive race retry.ts retries), and on a fresh one with none', async () => {
    const s = await raw((socket, _req, i) => {
      if (i === 0) socket.write(ok('first'));
      else socket.destroy();
    });
    const p = pool(s.port);
    expect((await send(p)).body.toString()).toBe('first');
    const reused = await send(p);
    expect(reused.error?.code).toBe('UND_ERR_SOCKET');
    expect((reused.error as { socket?: { bytesRead: number } }).socket?.bytesRead).toBeGreaterThan(0);
    const fresh = await send(p);
    expect(fresh.error?.code).toBe('UND_ERR_SOCKET');
    expect((fresh.error as { socket?: { bytesRead: number } }).socket?.bytesRead).toBe(0);
  });

  it('fails an invalid response with llhttp\'s code and closes that connection', async () => {
    const s = await raw((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'));
    const p = pool(s.port);
    const r = await send(p);
    expect(r.error?.code).toMatch(/^HPE_/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.stats().connected).toBe(0);
  });

  it('drops idle connections after keepAliveTimeoutMs, or sooner when the server says Keep-Alive: timeout', async () => {
    const s = await raw((socket) => socket.write(ok('x')));
    const p = pool(s.port, { keepAliveTimeoutMs: 100 });
    await send(p);
    expect(p.stats().free).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(p.stats().connected).toBe(0);
    await send(p);
    expect(s.connections()).toBe(2);
    const hinted = await raw((socket) => socket.write(ok('x', 'Keep-Alive: timeout=1\r\n')));
    const p2 = pool(hinted.port, { keepAliveTimeoutMs: 60_000 });
    await send(p2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(p2.stats().connected).toBe(0); // timeout=1 s less a second of margin: not reused at all
  });

  it('pauses the socket while the reader says stop and resumes where it left off', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    const s = await raw((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      socket.write(big);
    });
    const p = pool(s.port);
    let pauses = 0;
    const r = await send(p, {}, (_chunk, resume) => {
      pauses++;
      setTimeout(resume, 1);
      return false;
    });
    expect(r.error).toBeUndefined();
    expect(r.body.length).toBe(big.length);
    expect(r.body.equals(big)).toBe(true);
    expect(pauses).toBeGreaterThan(1);
  });

  it('keeps the connection when a request is aborted from onConnect, before any byte', async () => {
    const s = await raw((socket) => socket.write(ok('x')));
    const p = pool(s.port);
    await send(p);
    const aborted = await new Promise<Error>((resolve) => {
      p.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'] }, {
        onConnect(abort) { abort(new Error('client went away')); },
        onError: resolve,
      });
    });
    expect(aborted.message).toBe('client went away');
    expect((await send(p)).body.toString()).toBe('x');
    expect(s.connections()).toBe(1);
    expect(s.requests).toHaveLength(2);
  });

  it('fails running and waiting requests on destroy, and new ones after close', async () => {
    const s = await raw(() => undefined);
    const p = pool(s.port, { connections: 1 });
    const running = send(p);
    const body = new Readable({ read() { /* sends nothing until asked */ } });
    const waiting = send(p, { method: 'POST', headers: ['host', 'h'], body });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await p.destroy();
    expect((await running).error?.code).toBe('UND_ERR_DESTROYED');
    expect((await waiting).error?.code).toBe('UND_ERR_DESTROYED');
    expect(body.destroyed).toBe(true); // a waiting request's body is dropped like a running one's
    expect((await send(p)).error?.code).toBe('UND_ERR_DESTROYED');
  });

  it('reports a refused connection with its errno code', async () => {
    const s = await raw(() => undefined);
    const port = s.port;
    await s.close();
    const r = await send(pool(port));
    expect(r.error?.code).toBe('ECONNREFUSED');
  });
});
