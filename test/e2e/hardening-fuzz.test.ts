import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { startTestProxy, waitFor } from '../helpers/proxy.js';
import { rawExchange, startRecordingBackend, type RecordingBackend } from '../helpers/raw-http.js';
import { startTestReverse } from '../helpers/reverse.js';

/**
 * Random and mutated requests thrown at both front doors over real sockets (fast-check, fixed seed, bounded runs).
 * Every exchange must end (answered and/or closed) well within the timeouts, every answer must be a well-formed
 * status line, the proxy must keep serving, and the backend must have received exactly the requests the proxy
 * logged as 200 flows.
 */

interface Door { readonly port: number; readonly events: ProxyEvent[]; stats(): { inFlight: number }; close(graceMs?: number): Promise<void> }

const pathOf = (url: string): string => {
  const u = new URL(url);
  return u.pathname + u.search;
};

const PROTO = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const server = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500 };

const headerArb = fc.oneof(
  fc.constantFrom<[string, string]>(['Content-Length', '5'], ['Content-Length', '-1'], ['Content-Length', '5, 5'], ['Transfer-Encoding', 'chunked'],
    ['Transfer-Encoding', 'xchunked'], ['Transfer-Encoding', ' chunked'], ['Host', 'a.example'], ['Connection', 'close'], ['Connection', 'keep-alive, x-hop'],
    ['Expect', '100-continue'], ['Upgrade', 'websocket'], ['Cache-Control', '__proto__'], ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='], ['Via', '1.1 portico'],
    ['Max-Forwards', '0'], ['Range', 'bytes=0-1,-5'], ['If-None-Match', '*']),
  fc.tuple(fc.oneof(fc.constantFrom(...PROTO), fc.stringMatching(/^[A-Za-z-]{1,12}$/)), fc.oneof(fc.constantFrom(...PROTO), fc.string({ maxLength: 20 }))),
);

const requestArb = (target: (path: string) => string): fc.Arbitrary<string> => fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'GET ', '__proto__', 'get'),
  path: fc.oneof(fc.constantFrom('/a', '/', '/%00', '/..%2f..', '/a?b=c&__proto__=1', '*', ''), fc.string({ maxLength: 20 }).map((s) => `/${s}`)),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'HTTP/1.'),
  headers: fc.array(headerArb, { maxLength: 6 }),
  body: fc.oneof(fc.constant(''), fc.constant('hello'), fc.constant('5\r\nhello\r\n0\r\n\r\n'), fc.string({ maxLength: 30 })),
  mutations: fc.array(fc.tuple(fc.nat(), fc.constantFrom('\r', '\n', '\r\n', '\0', ' ', '\t', ':', 'GET / HTTP/1.1\r\n\r\n', '\x7f', 'é', ''), fc.boolean()), { maxLength: 3 }),
}).map(({ method, path, version, headers, body, mutations }) => {
  let text = `${method} ${target(path)} ${version}\r\nHost: a.example\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body}`;
  for (const [pos, insert, replace] of mutations) {
    const at = pos % (text.length + 1);
    text = text.slice(0, at) + insert + text.slice(replace ? at + 1 : at);
  }
  return text;
});

const doors: Array<[string, (b: RecordingBackend) => Promise<Door>, (b: RecordingBackend) => (path: string) => string]> = [
  ['forward', () => startTestProxy({ server }), (b) => (path) => `http://${b.address}${path}`],
  ['reverse', (b) => startTestReverse({ server, pools: { default: { backends: [b.address], retry: { maxAttempts: 1 } } } }), () => (path) => path],
];

describe.each(doors)('%s front door under fuzzed requests', (_mode, start, targetOf) => {
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

  it('every exchange ends with well-formed answers or a close; the backend sees exactly the logged requests; the proxy keeps serving', async () => {
    await fc.assert(fc.asyncProperty(requestArb(targetOf(backend)), async (bytes) => {
      const r = await rawExchange(door.port, bytes, 5000, true);
      expect(r.closed).toBe(true);
      if (r.text.length > 0) expect(r.text).toMatch(/^HTTP\/1\.1 \d{3} /);
    }), { numRuns: 60, seed: 9 });
    const ok = await rawExchange(door.port, `GET ${targetOf(backend)('/final')} HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n`);
    expect(ok.statuses).toEqual([200]);
    // Every exchange ended: none is stuck in flight (each one emitted its flow.end). Waited for, not read after a fixed
    // 200 ms that a busy machine can outlast; a stuck exchange still never gets there.
    await waitFor(() => door.stats().inFlight === 0 || undefined, 10_000).catch(() => undefined);
    expect(door.stats().inFlight).toBe(0);
    // No hidden request: everything the backend framed is a flow the proxy logged (some logged flows never got there).
    const logged = door.events.flatMap((e) => (e.type === 'flow.end' ? [`${e.flow.method} ${pathOf(e.flow.url)}`] : []));
    const hidden = backend.requests.map((r) => `${r.method} ${r.url}`).filter((seen) => {
      const i = logged.indexOf(seen);
      if (i < 0) return true;
      logged.splice(i, 1);
      return false;
    });
    expect(hidden).toEqual([]);
    expect(backend.requests.length).toBeGreaterThan(0);
  }, 120_000);
});
