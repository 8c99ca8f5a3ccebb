import { describe, expect, it } from 'vitest';
import { headOutcome } from '../../../src/cache/head-refresh.js';
import type { CacheEntry } from '../../../src/cache/store.js';
import type { RawHeaders } from '../../../src/core/flow.js';

const LM = 'Tue, 01 Sep 2026 10:00:00 GMT';

function stored(headers: RawHeaders, body = 'hello'): CacheEntry {
  return { head: { status: 200, headers }, body: new TextEncoder().encode(body), requestTime: 0, responseTime: 0, vary: [] };
}

const withBoth = stored([['ETag', '"v1"'], ['Last-Modified', LM], ['Content-Length', '5']]);
const noLength = stored([['ETag', '"v1"']]);
const noValidators = stored([['Cache-Control', 'max-age=60']]);

// RFC 9111 §4.3.5, one row per case: the stored GET, the HEAD response's status and fields, the outcome.
describe('HEAD freshening a stored GET (RFC 9111 §4.3.5)', () => {
  it.each<[string, CacheEntry, number, RawHeaders, string]>([
    ['same ETag and length: update', withBoth, 200, [['ETag', '"v1"'], ['Content-Length', '5']], 'update'],
    ['same ETag and Last-Modified: update', withBoth, 200, [['ETag', '"v1"'], ['Last-Modified', LM]], 'update'],
    ['no validators, no length received: update (nothing disagrees)', noValidators, 200, [['Cache-Control', 'max-age=5']], 'update'],
    ['length compared with the stored body when it had no Content-Length', noLength, 200, [['ETag', '"v1"'], ['Content-Length', '5']], 'update'],
    ['other ETag: invalidate', withBoth, 200, [['ETag', '"v2"']], 'invalidate'],
    ['weak vs strong ETag are different values: invalidate', withBoth, 200, [['ETag', 'W/"v1"']], 'invalidate'],
    ['other Last-Modified: invalidate', withBoth, 200, [['Last-Modified', 'Wed, 02 Sep 2026 10:00:00 GMT']], 'invalidate'],
    ['ETag received but none stored: invalidate', noValidators, 200, [['ETag', '"v1"']], 'invalidate'],
    ['same ETag, other Content-Length: invalidate', withBoth, 200, [['ETag', '"v1"'], ['Content-Length', '6']], 'invalidate'],
    ['other length against the stored body size: invalidate', noLength, 200, [['Content-Length', '4']], 'invalidate'],
    ['a 404 to HEAD leaves the stored GET alone', withBoth, 404, [['ETag', '"v2"']], 'ignore'],
    ['a 304 is not handled here (validation path)', withBoth, 304, [['ETag', '"v1"']], 'ignore'],
  ])('%s', (_name, entry, status, headers, kind) => {
    expect(headOutcome(entry, { status, headers }).kind).toBe(kind);
  });

  it('names what disagreed', () => {
    expect(headOutcome(withBoth, { status: 200, headers: [['ETag', '"v1"'], ['Content-Length', '9']] })).toEqual({ kind: 'invalidate', reason: 'content-length differs' });
  });
});
