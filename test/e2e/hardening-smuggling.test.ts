import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import type { FlowRecord } from '../../src/core/flow.js';
import type { RejectReason } from '../../src/core/rejections.js';
import { startTestProxy, waitFor } from '../helpers/proxy.js';
import { rawExchange, startRecordingBackend, type RecordingBackend } from '../helpers/raw-http.js';
import { startTestReverse } from '../helpers/reverse.js';

/**
 * Request smuggling and hostile heads, over raw sockets with hand-written bytes, at both front doors. Each case
 * checks the answer, that the connection closes, the metric reason, and that the backend (a raw TCP server that
 * records every byte) received exactly the requests the proxy logged as flows — never a second, hidden one.
 */

interface Door {
  readonly port: number;
  readonly events: ProxyEvent[];
  rejections(): ReadonlyMap<RejectReason, number>;
  close(graceMs?: number): Promise<void>;
}

const CRLF = '\r\n';

const doors: Array<[string, (b: RecordingBackend) => Promise<Door>, (b: RecordingBackend, path: string) => string]> = [
  ['forward', () => startTestProxy({}), (b, path) => `http://${b.address}${path}`],
  ['reverse', (b) => startTestReverse({ pools: { default: { backends: [b.address] } } }), (_b, path) => path],
];

describe.each(doors)('%s front door', (_mode, start, target) => {
  let backend: RecordingBackend;
  let door: Door;
  beforeAll(async () => {
    backend = await startRecordingBackend();
    door = await start(backend);
  });
  afterAll(async () => {
    await door.close(100);
    await backend.close();
  });
  beforeEach(() => {
    backend.requests.length = 0;
    door.events.length = 0;
  });

  const t = (path: string): string => target(backend, path);
  const req = (lines: string[], body = ''): string => lines.join(CRLF) + CRLF + CRLF + body;
  const flows = (): FlowRecord[] => door.events.flatMap((e) => (e.type === 'flow.end' ? [e.flow] : []));
  const seenByBackend = (): string[] => backend.requests.map((r) => `${r.method} ${r.url} ${r.body.length}`);
  const logged = (): string[] => flows().filter((f) => f.status === 200)
    .map((f) => `${f.method} ${new URL(f.url).pathname} ${f.bytesIn}`);

  /** The proxy answers `status`, closes, counts `reason`, and nothing reaches the backend or the log. */
  async function refused(bytes: string, status: number, reason: RejectReason): Promise<void> {
    const before = door.rejections().get(reason) ?? 0;
    const bytesBefore = backend.bytes().length;
    const r = await rawExchange(door.port, bytes);
    expect(r.statuses[0]).toBe(status);
    expect(r.closed).toBe(true);
    expect(door.rejections().get(reason) ?? 0).toBe(before + 1);
    await new Promise((res) => setTimeout(res, 50));
    expect(backend.bytes().length - bytesBefore).toBe(0);
    expect(flows().filter((f) => f.status === 200)).toEqual([]);
    expect(backend.requests).toEqual([]);
  }

  const host = 'Host: a.example';
  const smuggled = `GET /smuggled HTTP/1.1${CRLF}${host}${CRLF}${CRLF}`;

  it.each<[string, (t: (p: string) => string) => string, RejectReason]>([
    ['CL.TE', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: 6', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}${smuggled}`), 'content-length-and-transfer-encoding'],
    ['TE.CL', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding: chunked', 'Content-Length: 3'], `8${CRLF}${smuggled.slice(0, 8)}${CRLF}0${CRLF}${CRLF}`), 'content-length-and-transfer-encoding'],
    ['TE.TE xchunked', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding: xchunked'], `0${CRLF}${CRLF}${smuggled}`), 'bad-transfer-encoding'],
    ['TE.TE chunked then identity', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], `0${CRLF}${CRLF}${smuggled}`), 'bad-transfer-encoding'],
    ['TE.TE duplicated chunked', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}`), 'bad-transfer-encoding'],
    ['TE.TE chunked, gzip (chunked not last)', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding: chunked, gzip'], `0${CRLF}${CRLF}`), 'bad-transfer-encoding'],
    ['TE.TE space before the colon', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding : chunked'], `0${CRLF}${CRLF}${smuggled}`), 'bad-header'],
    ['TE.TE folded onto the previous line ( chunked)', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'X-Pad: a', ' Transfer-Encoding: chunked'], `0${CRLF}${CRLF}`), 'obs-fold'],
    ['TE.TE vertical tab', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Transfer-Encoding:\x0bchunked'], `0${CRLF}${CRLF}`), 'bad-header'],
    ['TE on HTTP/1.0', (t) => req([`POST ${t('/a')} HTTP/1.0`, host, 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}`), 'bad-transfer-encoding'],
    ['two different Content-Length', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: 3', 'Content-Length: 40'], `abc${smuggled}`), 'bad-content-length'],
    ['two equal Content-Length', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: 3', 'Content-Length: 3'], 'abc'), 'bad-content-length'],
    ['Content-Length as a list', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: 3, 3'], 'abc'), 'bad-content-length'],
    ['negative Content-Length', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: -1'], 'abc'), 'bad-content-length'],
    ['signed Content-Length', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: +3'], 'abc'), 'bad-content-length'],
    ['hex Content-Length', (t) => req([`POST ${t('/a')} HTTP/1.1`, host, 'Content-Length: 0x3'], 'abc'), 'bad-content-length'],
    ['obs-fold', (t) => req([`GET ${t('/a')} HTTP/1.1`, host, 'X-A: b', ' folded']), 'obs-fold'],
    ['an invalid header name', (t) => req([`GET ${t('/a')} HTTP/1.1`, host, 'X(A): b']), 'bad-header'],
    ['a NUL in a header value', (t) => req([`GET ${t('/a')} HTTP/1.1`, host, 'X-A: b\x00c']), 'bad-header'],
    ['a bare CR in a header value', (t) => req([`GET ${t('/a')} HTTP/1.1`, host, 'X-A: b\rc']), 'bad-header'],
    ['two Host fields', (t) => req([`GET ${t('/a')} HTTP/1.1`, host, 'Host: b.example']), 'duplicate-host'],
    ['an invalid method', (t) => req([`G(T ${t('/a')} HTTP/1.1`, host]), 'bad-request-line'],
  ])('%s → 400, closed, nothing forwarded', async (_name, build, reason) => {
    await refused(build(t), 400, reason);
  });

  it('a head over maxHeaderBytes → 431', async () => {
    await refused(req([`GET ${t('/a')} HTTP/1.1`, host, `X-Big: ${'x'.repeat(20_000)}`]), 431, 'header-too-large');
  });

  it('more than maxHeaderCount fields → 431 (node would drop the extra fields silently)', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `X-F${i}: v`);
    await refused(req([`GET ${t('/a')} HTTP/1.1`, host, ...many]), 431, 'too-many-headers');
  });

  it('a URL over maxUrlBytes → 414', async () => {
    await refused(req([`GET ${t(`/${'u'.repeat(9000)}`)} HTTP/1.1`, host]), 414, 'uri-too-long');
  });

  it.each<[string, string]>([
    ['an overlong chunk size', 'FFFFFFFFFFFFFFFFFFFF'],
    ['a negative chunk size', '-2'],
    ['a 0x-prefixed chunk size', '0x2'],
    ['garbage after the chunk size', '2 x'],
  ])('%s: the body is cut, the backend never sees a complete request or a second one', async (_name, size) => {
    const before = door.rejections().get('bad-chunk') ?? 0;
    const r = await rawExchange(door.port, req([`POST ${t('/chunk')} HTTP/1.1`, host, 'Transfer-Encoding: chunked'], `${size}${CRLF}ab${CRLF}0${CRLF}${CRLF}${smuggled}`));
    expect(r.closed).toBe(true);
    expect(r.statuses.every((s) => s !== 200)).toBe(true);
    expect(door.rejections().get('bad-chunk') ?? 0).toBe(before + 1);
    await new Promise((res) => setTimeout(res, 100));
    expect(backend.requests).toEqual([]);
    expect(backend.bytes().includes('/smuggled')).toBe(false);
    expect(flows().filter((f) => f.status === 200)).toEqual([]);
  });

  it('chunk extensions are legal: one request, exactly the chunk data, as logged', async () => {
    const r = await rawExchange(door.port, req([`POST ${t('/ext')} HTTP/1.1`, host, 'Transfer-Encoding: chunked', 'Connection: close'],
      `2;name=value${CRLF}ab${CRLF}0${CRLF}${CRLF}`));
    expect(r.statuses).toEqual([200]);
    await waitFor(() => flows().length === 1 || undefined);
    expect(seenByBackend()).toEqual(['POST /ext 2']);
    expect(logged()).toEqual(seenByBackend());
  });

  it('pipelined requests: each one forwarded once, in order, exactly as logged', async () => {
    const bytes = req([`GET ${t('/p1')} HTTP/1.1`, host]) + req([`POST ${t('/p2')} HTTP/1.1`, host, 'Content-Length: 5'], 'hello')
      + req([`GET ${t('/p3')} HTTP/1.1`, host, 'Connection: close']);
    const r = await rawExchange(door.port, bytes);
    expect(r.statuses).toEqual([200, 200, 200]);
    await waitFor(() => flows().length === 3 || undefined);
    // node:http hands pipelined requests over at once: they may reach the backend on parallel connections.
    expect(seenByBackend().sort()).toEqual(['GET /p1 0', 'GET /p3 0', 'POST /p2 5']);
    expect(logged().sort()).toEqual(seenByBackend().sort());
  });

  it('a request hidden in a Content-Length body stays body: one request upstream, one flow', async () => {
    const r = await rawExchange(door.port, req([`POST ${t('/outer')} HTTP/1.1`, host, `Content-Length: ${smuggled.length}`, 'Connection: close'], smuggled));
    expect(r.statuses).toEqual([200]);
    await waitFor(() => flows().length === 1 || undefined);
    expect(seenByBackend()).toEqual([`POST /outer ${smuggled.length}`]);
    expect(logged()).toEqual(seenByBackend());
  });

  it('a valid request pipelined before a malformed one: the first is served, the second refused, nothing else forwarded', async () => {
    const before = door.rejections().get('content-length-and-transfer-encoding') ?? 0;
    const bytes = req([`GET ${t('/first')} HTTP/1.1`, host])
      + req([`POST ${t('/second')} HTTP/1.1`, host, 'Content-Length: 6', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}${smuggled}`);
    const r = await rawExchange(door.port, bytes);
    expect(r.closed).toBe(true);
    expect(r.statuses).toEqual([200, 400]);
    expect(door.rejections().get('content-length-and-transfer-encoding') ?? 0).toBe(before + 1);
    await waitFor(() => flows().length === 1 || undefined);
    await new Promise((res) => setTimeout(res, 50));
    expect(seenByBackend()).toEqual(['GET /first 0']);
    expect(logged()).toEqual(seenByBackend());
  });

  it('a too-long URL pipelined behind a valid one is refused, and what follows it on the socket is never forwarded', async () => {
    const bytes = req([`GET ${t(`/${'u'.repeat(9000)}`)} HTTP/1.1`, host]) + req([`GET ${t('/after')} HTTP/1.1`, host]);
    const r = await rawExchange(door.port, bytes);
    expect(r.statuses[0]).toBe(414);
    expect(r.closed).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(backend.requests).toEqual([]);
  });
});

describe('inside an intercepted (MITM) tunnel', () => {
  it('CL.TE is answered 400 and counted there too, and nothing reaches the origin', async () => {
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { connect: tlsConnect } = await import('node:tls');
    const { makeTestPki } = await import('../helpers/test-pki.js');
    const { startHttpsOrigin } = await import('../helpers/origin.js');
    const { openTunnel } = await import('../helpers/tunnel.js');
    const pki = await makeTestPki();
    const secure = await startHttpsOrigin(pki);
    const certs = await mkdtemp(join(tmpdir(), 'portico-smuggle-mitm-'));
    const proxy = await startTestProxy({ certs, mitm: true, connectPorts: [secure.port], upstream: { ca: pki.caFile } });
    try {
      const t = await openTunnel(proxy.port, `localhost:${secure.port}`);
      expect(t.status).toBe(200);
      const tls = tlsConnect({ socket: t.socket, servername: 'localhost', ca: await readFile(join(certs, 'ca.pem'), 'utf8') });
      await new Promise((res, rej) => { tls.once('secureConnect', res); tls.once('error', rej); });
      let text = '';
      tls.on('data', (d: Buffer) => { text += d.toString('latin1'); });
      const closed = new Promise((res) => tls.once('close', res));
      tls.on('error', () => undefined);
      tls.write(`POST /a HTTP/1.1\r\nHost: localhost:${secure.port}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`);
      await closed;
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(proxy.rejections().get('content-length-and-transfer-encoding')).toBe(1);
      expect(secure.seen).toEqual([]);
    } finally {
      await proxy.close(100);
      await secure.close();
    }
  });
});
