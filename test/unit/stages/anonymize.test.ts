import { describe, expect, it } from 'vitest';
import type { RawHeaders } from '../../../src/core/flow.js';
import {
  anonymizeRequestHeaders, anonymizeResponseHeaders, stripTrackingParams, trackingParamMatcher, type AnonymizeOptions,
} from '../../../src/stages/anonymize-headers.js';

const opts: AnonymizeOptions = { userAgent: 'Common/1.0', trackingParams: ['utm_*', 'fbclid'], forwarded: false, pseudonym: 'portico' };
const input = (headers: RawHeaders, url = 'https://shop.example.co.uk/p', tracker?: string) =>
  ({ headers, url: new URL(url), clientIp: '10.0.0.5', tracker });

describe('anonymization profiles', () => {
  const identifying: RawHeaders = [
    ['X-Forwarded-For', '10.0.0.5'], ['Forwarded', 'for=10.0.0.5'], ['X-Real-IP', '10.0.0.5'], ['From', 'me@corp'],
    ['Via', '1.1 squid.corp.internal, 1.0 edge, 1.1 10.0.0.3:3128, 1.1 portico'], ['User-Agent', 'Mine/2'], ['Cookie', 'a=1'], ['Accept', '*/*'],
  ];

  it('strict removes identity, replaces User-Agent, adds DNT and Sec-GPC, keeps our own Via element', () => {
    const r = anonymizeRequestHeaders(input(identifying), 'strict', opts);
    expect(r.headers).toEqual([['Via', '1.1 portico'], ['Cookie', 'a=1'], ['Accept', '*/*'], ['User-Agent', 'Common/1.0'], ['DNT', '1'], ['Sec-GPC', '1']]);
    expect(r.changes).toEqual(['removed X-Forwarded-For', 'removed Forwarded', 'removed X-Real-IP', 'removed From', 'removed Via',
      'replaced User-Agent', 'added DNT: 1', 'added Sec-GPC: 1']);
  });

  it('standard removes the client identity and Via host names, keeps pseudonyms', () => {
    const r = anonymizeRequestHeaders(input(identifying), 'standard', opts);
    expect(r.headers).toEqual([['From', 'me@corp'], ['Via', '1.0 edge, 1.1 portico'], ['User-Agent', 'Mine/2'], ['Cookie', 'a=1'], ['Accept', '*/*']]);
    expect(r.changes).toEqual(['removed X-Forwarded-For', 'removed Forwarded', 'removed X-Real-IP', 'removed Via']);
  });

  it('off is transparent; with forwarded it adds RFC 7239 Forwarded and X-Forwarded-For', () => {
    expect(anonymizeRequestHeaders(input(identifying), 'off', opts)).toEqual({ headers: identifying, changes: [] });
    const r = anonymizeRequestHeaders({ ...input([['Accept', '*/*']]), clientIp: '2001:db8::1' }, 'off', { ...opts, forwarded: true });
    expect(r.headers).toEqual([['Accept', '*/*'], ['Forwarded', 'for="[2001:db8::1]";proto=https'], ['X-Forwarded-For', '2001:db8::1']]);
  });

  it.each([
    ['https://www.example.co.uk/a', true],
    ['https://example.co.uk/', true],
    ['https://other.co.uk/', false],
    ['https://example.com/', false],
    ['not a url', false],
  ])('strict keeps a same-site Referer: %s → kept %s', (referer, kept) => {
    const r = anonymizeRequestHeaders(input([['Referer', referer]], 'https://shop.example.co.uk/p'), 'strict', opts);
    expect(r.headers.some(([k]) => k === 'Referer')).toBe(kept);
  });

  it('strict drops cookies to and from tracker hosts', () => {
    const r = anonymizeRequestHeaders(input([['Cookie', 'id=1']], 'https://t.example/', 'trackers'), 'strict', opts);
    expect(r.changes).toContain('removed Cookie (tracker category trackers)');
    expect(r.headers.some(([k]) => k === 'Cookie')).toBe(false);
    const res = anonymizeResponseHeaders([['Set-Cookie', 'id=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']], 'strict', 'trackers');
    expect(res).toEqual({ headers: [['Content-Type', 'text/plain']], changes: ['removed Set-Cookie (tracker category trackers)'] });
    expect(anonymizeResponseHeaders([['Set-Cookie', 'id=1']], 'standard', 'trackers').changes).toEqual([]);
  });

  it('strips tracking query parameters by glob', () => {
    const url = new URL('https://x.example/?utm_source=a&UTM_Medium=b&id=1&fbclid=z&fbclid=y');
    expect(stripTrackingParams(url, trackingParamMatcher(opts.trackingParams))).toEqual(['utm_source', 'UTM_Medium', 'fbclid']);
    expect(url.search).toBe('?id=1');
  });
});
