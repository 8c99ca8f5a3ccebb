import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/core/stage.js';
import { createLocalLimiter } from '../../../src/gateway/rate-limit-local.js';
import { limitKey, rateLimitStage } from '../../../src/gateway/rate-limit-stage.js';
import { makeFlow } from '../../helpers/make-flow.js';

const clock = { now: () => 0, monotonic: () => 0 };
const ctx = { clock, log: pino({ level: 'silent' }) };

describe('rate-limit stage', () => {
  it('keys by IP, or by a header value with the IP as fallback; long values are hashed', () => {
    expect(limitKey('ip', '10.0.0.1', [['X-Api-Key', 'k']])).toBe('ip:10.0.0.1');
    expect(limitKey('header:x-api-key', '10.0.0.1', [['X-Api-Key', 'k']])).toBe('h:k');
    expect(limitKey('header:x-api-key', '10.0.0.1', [])).toBe('ip:10.0.0.1');
    const long = limitKey('header:x-api-key', '10.0.0.1', [['X-Api-Key', 'k'.repeat(500)]]);
    expect(long).toMatch(/^#[A-Za-z0-9_-]{43}$/);
  });

  it('answers 429 with Retry-After and RateLimit fields, and adds the fields to allowed responses', async () => {
    const stage = rateLimitStage(createLocalLimiter({ ratePerSecond: 0.5, burst: 2, maxKeys: 10 }, clock), { name: 'api', key: 'ip', headers: true });
    const flows = [0, 1, 2].map(() => makeFlow({ url: 'http://x/' }));
    const verdicts = flows.map((f) => stage.onRequest?.(f, ctx) as Verdict);
    expect(verdicts.map((v) => v.kind)).toEqual(['continue', 'continue', 'reply']);
    expect(flows.map((f) => f.notes.rateLimit)).toEqual(['local', 'local', 'limited']);
    const refused = verdicts[2] as Extract<Verdict, { kind: 'reply' }>;
    expect(refused.head.status).toBe(429);
    const h = new Map(refused.head.headers.map(([k, v]) => [k.toLowerCase(), v]));
    expect(h.get('retry-after')).toBe('2'); // one token at 0.5/s
    expect(h.get('ratelimit-policy')).toBe('"api";q=2;w=4');
    expect(h.get('ratelimit')).toBe('"api";r=0;t=4');
    const first = flows[0]!;
    first.response = { status: 200, headers: [] };
    await stage.onResponse?.(first, ctx);
    expect(first.response.headers).toContainEqual(['RateLimit', '"api";r=1;t=2']);
  });

  it('draws from the bucket of the client a trusted proxy names (notes.realIp), else of the peer', () => {
    const stage = rateLimitStage(createLocalLimiter({ ratePerSecond: 0.01, burst: 1, maxKeys: 10 }, clock), { name: 'api', key: 'ip', headers: false });
    const via = (realIp: string | undefined) => {
      const f = makeFlow({ url: 'http://x/', clientIp: '10.0.0.1' });
      if (realIp !== undefined) f.notes.realIp = realIp;
      return (stage.onRequest?.(f, ctx) as Verdict).kind;
    };
    expect([via('203.0.113.1'), via('203.0.113.2'), via('203.0.113.1'), via(undefined), via(undefined)])
      .toEqual(['continue', 'continue', 'reply', 'continue', 'reply']);
  });
});
