import { afterEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import pino from 'pino';
import { Coalescer } from '../../../src/cache/coalesce.js';
import { createMemoryStore } from '../../../src/cache/stores/memory.js';
import { boundedTee } from '../../../src/cache/tee.js';
import { createEventBus } from '../../../src/core/events.js';
import type { Flow, RawHeaders, ResponseHead } from '../../../src/core/flow.js';
import { getHeader } from '../../../src/core/headers.js';
import { Pipeline } from '../../../src/core/pipeline.js';
import type { Stage, Upstream } from '../../../src/core/stage.js';
import { cacheStage } from '../../../src/stages/cache.js';
import { makeFlow } from '../../helpers/make-flow.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const log = pino({ level: 'silent' });

function harness(respond: (flow: Flow, n: number) => { head: ResponseHead; body: string }, before: Stage[] = []) {
  let now = T0;
  const clock = { now: () => now, monotonic: () => now };
  const seen: RawHeaders[] = [];
  const upstream: Upstream = {
    send: async (flow) => {
      seen.push(flow.request.headers);
      const r = respond(flow, seen.length);
      return { head: r.head, body: Readable.from([Buffer.from(r.body)]) };
    },
  };
  const store = createMemoryStore({ maxMemoryBytes: 1 << 20, maxObjectBytes: 1 << 16, clock });
  const stage = cacheStage({ maxObjectBytes: 1 << 16, cacheStatus: true, statusName: 'portico', coalesceWaitMs: 1000, keepForRevalidationMs: 3_600_000, heuristicMaxMs: 86_400_000 }, { store, clock, log });
  const pipeline = new Pipeline([...before, stage], upstream, { clock, log }, createEventBus());
  const get = async (headers: RawHeaders = []) => {
    const flow = makeFlow({ url: 'http://origin.test/a', headers });
    await pipeline.run(flow);
    const body = flow.responseBody;
    let text = '';
    if (body instanceof Uint8Array) text = Buffer.from(body).toString();
    else if (body) for await (const c of body) text += Buffer.from(c).toString();
    await new Promise((r) => setImmediate(r)); // the tee's store write
    return { flow, text, header: (n: string) => getHeader(flow.response?.headers ?? [], n) };
  };
  return { get, seen, advance: (ms: number) => { now += ms; }, close: () => pipeline.close() };
}

const ok = (headers: RawHeaders) => (_f: Flow, n: number) => ({ head: { status: 200, headers: [['Date', new Date(T0).toUTCString()], ...headers] as RawHeaders }, body: `v${n}` });

describe('cache stage over an injected clock (no sockets)', () => {
  it('Age and ttl follow the injected clock; past max-age the entry is revalidated with its ETag', async () => {
    const h = harness((flow, n) => getHeader(flow.request.headers, 'if-none-match') === '"e"'
      ? { head: { status: 304, headers: [['ETag', '"e"'], ['Cache-Control', 'max-age=60']] }, body: '' }
      : ok([['ETag', '"e"'], ['Cache-Control', 'max-age=60']])(flow, n));
    expect((await h.get()).flow.notes.cache).toBe('miss');
    h.advance(30_000);
    const hit = await h.get();
    expect([hit.text, hit.header('age'), hit.header('cache-status')]).toEqual(['v1', '30', 'portico; hit; ttl=30']);
    h.advance(31_000);
    const reval = await h.get();
    expect([reval.flow.notes.cache, reval.text, reval.header('cache-status')]).toEqual(['revalidated', 'v1', 'portico; fwd=stale; fwd-status=304']);
    expect(getHeader(h.seen[1] ?? [], 'if-none-match')).toBe('"e"');
    expect(h.seen).toHaveLength(2);
    await h.close();
  });

  it('a flow an earlier stage marked bypassCache (policy bypass-cache) is neither answered nor stored', async () => {
    const policy: Stage = { name: 'policy', onRequest: (flow) => { flow.notes.bypassCache = true; return { kind: 'continue' }; } };
    const h = harness(ok([['Cache-Control', 'max-age=60']]), [policy]);
    const a = await h.get();
    const b = await h.get();
    expect([a.flow.notes.cache, b.flow.notes.cache, b.text]).toEqual(['bypass', 'bypass', 'v2']);
    expect(b.header('cache-status')).toBe('portico; fwd=bypass; detail=policy');
    await h.close();
  });

  it('a policy decision bypass-cache is honoured too', async () => {
    const policy: Stage = { name: 'policy', onRequest: (flow) => { flow.notes.policy = { action: 'bypass-cache', rule: 'r', explain: 'e' }; return { kind: 'continue' }; } };
    const h = harness(ok([['Cache-Control', 'max-age=60']]), [policy]);
    await h.get();
    expect((await h.get()).text).toBe('v2');
    await h.close();
  });

  it('a stored response without Date gets one (RFC 9110 §6.6.1), from the injected clock', async () => {
    const h = harness((_f, n) => ({ head: { status: 200, headers: [['Cache-Control', 'max-age=60']] }, body: `v${n}` }));
    await h.get();
    h.advance(5000);
    const hit = await h.get();
    expect([hit.text, hit.header('date'), hit.header('age')]).toEqual(['v1', new Date(T0).toUTCString(), '5']);
    await h.close();
  });

  it('request max-age=0 forces revalidation; an entry without validators is fetched again', async () => {
    const h = harness(ok([['Cache-Control', 'max-age=60']]));
    await h.get();
    const again = await h.get([['Cache-Control', 'max-age=0']]);
    expect([again.text, again.flow.notes.cache]).toEqual(['v2', 'miss']);
    await h.close();
  });
});

describe('coalescer', () => {
  afterEach(() => { vi.useRealTimers(); });
  it('waiters wake on release, or after the bounded wait at the latest', async () => {
    vi.useFakeTimers();
    const c = new Coalescer(5000);
    const release = c.claim('k');
    expect(c.claim('k')).toBeUndefined();
    let woke = false;
    void c.wait('k').then(() => { woke = true; });
    await vi.advanceTimersByTimeAsync(4999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);
    release?.();
    expect(await c.wait('k')).toBe(false); // nobody holds it any more
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('bounded tee', () => {
  it('passes every byte through but gives up the copy as soon as it exceeds the limit', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(1000, 1));
    let result: Uint8Array | undefined | 'pending' = 'pending';
    let seenWhenGivenUp = -1;
    let passed = 0;
    const tee = boundedTee(Readable.from(chunks), 2500, (b) => { result = b; seenWhenGivenUp = passed; });
    for await (const c of tee) passed += (c as Buffer).length;
    expect(passed).toBe(10_000);
    expect(result).toBeUndefined();
    expect(seenWhenGivenUp).toBeLessThanOrEqual(3000);
  });
  it('keeps a body within the limit', async () => {
    let result: Uint8Array | undefined;
    const tee = boundedTee(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 3, (b) => { result = b; });
    for await (const _ of tee) void _;
    expect(Buffer.from(result ?? []).toString()).toBe('abc');
  });
});
