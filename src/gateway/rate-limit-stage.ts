import { createHash } from 'node:crypto';
import type { Flow, RawHeaders } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import { CONTINUE, type Stage, type Verdict } from '../core/stage.js';
import type { LimitDecision, RateLimiter } from './rate-limit.js';

export interface RateLimitStageOptions {
  /** The policy's name in the RateLimit fields (the route id). */
  readonly name: string;
  /** `ip`, or `header:NAME` (requests without that header are limited per client IP). */
  readonly key: string;
  /** Add RateLimit-Policy / RateLimit to every response of the route, not only to 429s. */
  readonly headers: boolean;
}

const enc = new TextEncoder();
/** Longer keys (a header value can be 16 KiB) are hashed: bounded memory, and no API key stored in clear. */
const MAX_KEY_CHARS = 64;

/** Pure: the bucket a request draws from. */
export function limitKey(source: string, clientIp: string, headers: RawHeaders): string {
  const name = source.startsWith('header:') ? source.slice(7) : undefined;
  const value = name === undefined ? undefined : getHeader(headers, name);
  const raw = value === undefined ? `ip:${clientIp}` : `h:${value}`;
  return raw.length <= MAX_KEY_CHARS ? raw : `#${createHash('sha256').update(raw).digest('base64url')}`;
}

/** RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-10): quota q per window w s; r left, t s to reset. */
export function rateLimitFields(name: string, limiter: RateLimiter, d: LimitDecision): RawHeaders {
  const { burst, ratePerSecond } = limiter.options;
  const windowS = Math.max(1, Math.ceil(burst / ratePerSecond));
  return [
    ['RateLimit-Policy', `"${name}";q=${burst};w=${windowS}`],
    ['RateLimit', `"${name}";r=${d.remaining};t=${Math.ceil(d.resetMs / 1000)}`],
  ];
}

/**
 * A token bucket per client IP or header value: 429 with Retry-After and the RateLimit fields when it is empty. The
 * client IP is the one resolved through trusted proxies (`notes.realIp`, set by reverse/client-headers.ts), else the peer.
 */
export function rateLimitStage(limiter: RateLimiter, opts: RateLimitStageOptions): Stage {
  const decided = new WeakMap<Flow, LimitDecision>();
  const verdict = (flow: Flow, d: LimitDecision): Verdict => {
    flow.notes.rateLimit = d.allowed ? d.source : d.source === 'fail-closed' ? 'fail-closed' : 'limited';
    if (d.allowed) {
      if (opts.headers && d.source !== 'fail-open') decided.set(flow, d);
      return CONTINUE;
    }
    return tooMany(opts, limiter, d);
  };
  return {
    name: 'rate-limit',
    onRequest(flow) {
      const d = limiter.take(limitKey(opts.key, flow.notes.realIp ?? flow.client.ip, flow.request.headers));
      return d instanceof Promise ? d.then((x) => verdict(flow, x)) : verdict(flow, d);
    },
    onResponse(flow) {
      const d = decided.get(flow);
      if (d === undefined || flow.response === undefined) return;
      decided.delete(flow);
      flow.response.headers.push(...rateLimitFields(opts.name, limiter, d));
    },
    close: () => limiter.close(),
  };
}

function tooMany(opts: RateLimitStageOptions, limiter: RateLimiter, d: LimitDecision): Verdict {
  const retryS = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
  const why = d.source === 'fail-closed' ? 'the rate-limit store is unavailable' : `rate limit of route ${opts.name} exceeded`;
  const body = enc.encode(`429 Too Many Requests: ${why}; retry in ${retryS} s\n`);
  const headers: RawHeaders = [
    ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)], ['Retry-After', String(retryS)],
    ...rateLimitFields(opts.name, limiter, d),
  ];
  return { kind: 'reply', head: { status: 429, reason: 'Too Many Requests', headers }, body };
}
