import { describe, expect, it } from 'vitest';
import { correctedInitialAge, currentAge, evaluate, evaluateAged, freshnessLifetime } from '../../../src/cache/freshness.js';
import { parseCacheControl } from '../../../src/cache/cache-control.js';
import { serveEntry, wantsWhole, wholeResponseFields } from '../../../src/cache/serve.js';
import type { CacheEntry } from '../../../src/cache/store.js';
import type { RawHeaders, RequestHead } from '../../../src/core/flow.js';

const entry = (headers: RawHeaders, status = 200, body = new Uint8Array(5)): CacheEntry => ({
  head: { status, reason: 'OK', headers }, body, requestTime: 1_000, responseTime: 2_000, vary: [],
});
const request = (headers: RawHeaders, method = 'GET'): RequestHead => ({ method, url: new URL('http://a.test/x'), version: '1.1', headers });

/** The cache stage serves whole responses from per-entry fields (stages/cache.ts reply); it must equal serveEntry. */
describe('whole responses from precomputed fields', () => {
  const heads: RawHeaders[] = [
    [['Content-Type', 'text/plain'], ['Content-Length', '5'], ['Cache-Control', 'max-age=60']],
    [['age', '30'], ['Cache-Control', 'max-age=60'], ['ETag', '"a"']],
    [['Date', 'Thu, 01 Jan 1970 00:00:01 GMT'], ['AGE', '7'], ['Expires', 'Thu, 01 Jan 1970 00:01:00 GMT']],
  ];
  for (const [i, headers] of heads.entries()) {
    it(`case ${i}: fields + Age equal serveEntry's head, for GET and HEAD`, () => {
      const e = entry(headers);
      for (const method of ['GET', 'HEAD']) {
        const served = serveEntry(e, request([['Accept', '*/*']], method), { ageMs: 12_345 });
        expect([...wholeResponseFields(e.head, 5), ['Age', '12']]).toEqual(served.head.headers);
        expect(served.body).toBe(method === 'HEAD' ? null : e.body);
      }
    });
  }

  it('204 gets no Content-Length, as in serveEntry', () => {
    const e = entry([['X', '1']], 204, new Uint8Array(0));
    expect(wholeResponseFields(e.head, 0)).toEqual(serveEntry(e, request([]), { ageMs: 0 }).head.headers.slice(0, -1));
  });

  it('wantsWhole is false exactly when a precondition or Range could change the answer', () => {
    expect(wantsWhole([['Accept', '*/*'], ['Host', 'a']])).toBe(true);
    expect(wantsWhole([['If-None-Match', '"a"']])).toBe(false);
    expect(wantsWhole([['if-modified-since', 'Thu, 01 Jan 1970 00:00:01 GMT']])).toBe(false);
    expect(wantsWhole([['RANGE', 'bytes=0-1']])).toBe(false);
  });

  it('evaluateAged with the stored lifetime and initial age equals evaluate', () => {
    for (const headers of heads) {
      const e = entry(headers);
      const cc = parseCacheControl(headers);
      for (const now of [2_000, 20_000, 90_000, 200_000]) {
        const input = { ...e, responseCc: cc, requestCc: {}, hasValidators: false };
        const aged = evaluateAged(input, correctedInitialAge(e) + Math.max(0, now - e.responseTime), freshnessLifetime(e.head, cc, { heuristicMaxMs: 86_400_000 }, e.responseTime));
        expect(aged).toEqual(evaluate(input, now, { heuristicMaxMs: 86_400_000 }));
        expect(correctedInitialAge(e) + Math.max(0, now - e.responseTime)).toBe(currentAge(e, now));
      }
    }
  });
});
