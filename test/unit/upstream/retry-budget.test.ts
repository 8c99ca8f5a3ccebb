import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY, RetryBudget, shouldRetry, type RetryQuestion } from '../../../src/upstream/retry-budget.js';

const base: RetryQuestion = {
  method: 'GET', hasBody: false, attempts: 1, outcome: { kind: 'status', status: 503 }, responseStarted: false,
  budgetOk: true, alternative: true,
};

describe('retry eligibility (Caddy tryAgain, Envoy retry_on 5xx/connect-failure)', () => {
  it.each([
    { name: 'GET 503 → retry', q: {}, retry: true },
    { name: 'GET 502 / 504 → retry', q: { outcome: { kind: 'status', status: 504 } }, retry: true },
    { name: 'GET 500 → final', q: { outcome: { kind: 'status', status: 500 } }, retry: false, why: 'status 500 is final' },
    { name: 'POST 503 → not idempotent', q: { method: 'POST' }, retry: false, why: 'POST is not idempotent' },
    { name: 'POST connect refused → retry (never sent)', q: { method: 'POST', outcome: { kind: 'error', code: 'CONNECT_REFUSED' } }, retry: true },
    { name: 'POST reset → not idempotent', q: { method: 'POST', outcome: { kind: 'error', code: 'UPSTREAM_RESET' } }, retry: false },
    { name: 'PUT reset → retry', q: { method: 'PUT', outcome: { kind: 'error', code: 'UPSTREAM_RESET' } }, retry: true },
    { name: 'body → never', q: { hasBody: true, outcome: { kind: 'error', code: 'CONNECT_REFUSED' } }, retry: false, why: 'the request body cannot be replayed' },
    { name: 'response started → never', q: { responseStarted: true }, retry: false, why: 'the response had started' },
    { name: 'attempts used up', q: { attempts: 3 }, retry: false, why: '3 attempts made' },
    { name: 'no other backend', q: { alternative: false }, retry: false, why: 'no other backend to try' },
    { name: 'budget exhausted', q: { budgetOk: false }, retry: false, why: 'retry budget exhausted' },
    { name: 'client aborted → no', q: { outcome: { kind: 'error', code: 'CLIENT_ABORTED' } }, retry: false },
  ] as Array<{ name: string; q: Partial<RetryQuestion>; retry: boolean; why?: string }>)('$name', ({ q, retry, why }) => {
    const d = shouldRetry({ ...base, ...q }, DEFAULT_RETRY);
    expect(d.retry).toBe(retry);
    if (why !== undefined) expect(d.why).toBe(why);
  });
});

describe('retry budget (Envoy: 20% of active requests, min 3 concurrent)', () => {
  it.each([[0, 3], [5, 3], [15, 3], [20, 4], [50, 10], [100, 20]])('%i active requests allow %i concurrent retries', (active, allowed) => {
    const b = new RetryBudget(DEFAULT_RETRY);
    for (let i = 0; i < active; i++) b.requestStarted();
    let n = 0;
    while (b.allows()) { b.retryStarted(); n++; }
    expect(n).toBe(allowed);
    b.retryEnded();
    expect(b.allows()).toBe(true);
  });

  it('back-off is full jitter, doubling from 25 ms and capped at 250 ms', () => {
    expect(backoffMs(2, DEFAULT_RETRY, () => 0.999)).toBe(24);
    expect(backoffMs(3, DEFAULT_RETRY, () => 0.999)).toBe(49);
    expect(backoffMs(10, DEFAULT_RETRY, () => 0.999)).toBe(249);
    expect(backoffMs(2, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});
