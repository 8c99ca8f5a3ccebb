import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/proxy.js';
import { startBackend, startTestReverse, type TestBackend, type TestReverse } from '../helpers/reverse.js';

// Clients on distinct loopback addresses (Linux routes all of 127/8 to lo): 127.0.0.1 is the trusted hop (the front
// Portico's own connections come from it); 127.0.0.5/.6 are clients behind it; 127.0.0.7 talks to the back directly.
let backend: TestBackend;
let back: TestReverse;
let front: TestReverse;

beforeAll(async () => {
  backend = await startBackend('b1');
  back = await startTestReverse({
    trustedProxies: ['127.0.0.1'], pools: { web: { backends: [backend.address] } },
    routes: [{ id: 'api', pool: 'web', rateLimit: { ratePerSecond: 0.01, burst: 1 } }],
  });
  front = await startTestReverse({ via: { pseudonym: 'edge' }, pools: { back: { backends: [`127.0.0.1:${back.port}`] } } });
});

afterAll(async () => {
  await front?.close(500);
  await back?.close(500);
  await backend?.close();
});

function get(port: number, from: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers: { connection: 'close', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('per-route rate limit behind a trusted proxy', () => {
  it('keys on the client the trusted hop names: two clients through it get separate buckets', async () => {
    expect(await get(front.port, '127.0.0.5', '/a')).toBe(200);
    expect(await get(front.port, '127.0.0.6', '/a')).toBe(200); // keyed on the hop alone, this would be 429
    expect(await get(front.port, '127.0.0.5', '/a')).toBe(429);
    expect(await get(front.port, '127.0.0.6', '/a')).toBe(429);
    // All four of back's flows, waited for (events reach subscribers asynchronously; a fixed 20 ms was a guess).
    const flows = await waitFor(() => { const f = back.events.flatMap((e) => (e.type === 'flow.end' ? [e.flow] : [])); return f.length >= 4 ? f : undefined; });
    expect(flows.map((f) => f.notes.realIp)).toEqual(['127.0.0.5', '127.0.0.6', '127.0.0.5', '127.0.0.6']);
  });

  it('an untrusted peer cannot dodge its bucket with a forged X-Forwarded-For', async () => {
    expect(await get(back.port, '127.0.0.7', '/b', { 'x-forwarded-for': '198.51.100.1' })).toBe(200);
    expect(await get(back.port, '127.0.0.7', '/b', { 'x-forwarded-for': '198.51.100.2' })).toBe(429);
    expect(await get(back.port, '127.0.0.7', '/b')).toBe(429);
    // Nor can a client of the trusted hop: the front replaces what its untrusted client sent.
    expect(await get(front.port, '127.0.0.8', '/b', { 'x-forwarded-for': '198.51.100.3' })).toBe(200);
    expect(await get(front.port, '127.0.0.8', '/b', { 'x-forwarded-for': '198.51.100.4' })).toBe(429);
  });
});
