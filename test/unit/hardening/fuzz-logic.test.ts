import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStorable } from '../../../src/cache/cacheability.js';
import { directivePairs, parseCacheControl, requestCacheControl } from '../../../src/cache/cache-control.js';
import { evaluate, freshnessLifetime } from '../../../src/cache/freshness.js';
import { variantKey, varyMatches, varyNames } from '../../../src/cache/key.js';
import { clientNotModified, hasValidators, revalidationHeaders } from '../../../src/cache/validators.js';
import type { RawHeaders, ResponseHead } from '../../../src/core/flow.js';
import { classifyClientError, screenRequestHead } from '../../../src/core/request-screen.js';
import { hostMatchesTunnel, parseAuthority, plainTarget } from '../../../src/forward/target.js';
import { decide } from '../../../src/policy/decide.js';
import { parseList } from '../../../src/policy/list-parse.js';
import { parseRulesFile } from '../../../src/policy/rules-file.js';
import { parseTimeWindow } from '../../../src/policy/time-window.js';
import { canonicalHost } from '../../../src/upstream/target-guard.js';
import { policyFrom, req, WED_10_UTC } from '../policy/build.js';

/**
 * Random and hostile input thrown at the pure logic behind the front doors: parsing, rules, cache decisions. None
 * may throw (except the documented config errors), hang, or be fooled by names that live on Object.prototype.
 */

const RUNS = { numRuns: 300, seed: 9 };
/** Names that break code using plain objects as maps. */
const PROTO = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];
const protoName = fc.constantFrom(...PROTO, ...PROTO.map((p) => p.toUpperCase()));
const nameArb = fc.oneof(protoName, fc.constantFrom('Cache-Control', 'Vary', 'ETag', 'Last-Modified', 'Expires', 'Date', 'Age',
  'If-None-Match', 'If-Modified-Since', 'Pragma', 'Authorization', 'Set-Cookie', 'Content-Length', 'Transfer-Encoding', 'Host'), fc.string({ maxLength: 12 }));
const valueArb = fc.oneof(protoName, fc.string({ maxLength: 40 }),
  fc.array(fc.oneof(protoName, fc.constantFrom('max-age=60', 's-maxage=5', 'no-store', 'private', 'no-cache="set-cookie"', 'max-age=-1',
    'max-age=99999999999999999999', 'stale-while-revalidate=10', '*', 'W/"x"', '"e"', 'Thu, 01 Jan 1970 00:00:00 GMT')), { maxLength: 4 }).map((a) => a.join(', ')));
const headersArb: fc.Arbitrary<RawHeaders> = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 8 });
const headArb: fc.Arbitrary<ResponseHead> = fc.record({ status: fc.integer({ min: 100, max: 599 }), headers: headersArb });

describe('the front-door screen', () => {
  it('never throws on arbitrary heads and error codes', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('1.0', '1.1', '2.0', ''), fc.array(fc.oneof(nameArb, valueArb), { maxLength: 30 }),
      fc.option(fc.oneof(protoName, fc.string()), { nil: undefined }), fc.string(), (url, version, raw, code, text) => {
        const r = screenRequestHead({ url, httpVersion: version, rawHeaders: raw }, { maxUrlBytes: 100, maxHeaderCount: 10 });
        if (r) expect([400, 414, 431]).toContain(r.status);
        const c = classifyClientError(code, text);
        if (c) expect([400, 408, 431]).toContain(c.status);
      }), RUNS);
  });
});

describe('cache logic', () => {
  it('Cache-Control parsing, storability, freshness, Vary and validators never throw and stay in range', () => {
    fc.assert(fc.property(headersArb, headArb, fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('GET', 'HEAD', 'POST', '__proto__'), (reqHeaders, res, now, method) => {
      const responseCc = parseCacheControl(res.headers);
      const requestCc = requestCacheControl(reqHeaders);
      directivePairs(res.headers);
      const storable = isStorable({ method, requestHeaders: reqHeaders, requestCc, response: res, responseCc });
      expect(typeof storable.ok).toBe('boolean');
      const lifetime = freshnessLifetime(res, responseCc, { heuristicMaxMs: 86_400_000 }, now);
      expect(lifetime).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(lifetime)).toBe(false);
      const validators = hasValidators(res);
      evaluate({ head: res, requestTime: now, responseTime: now, responseCc, requestCc, hasValidators: validators }, now + 1000, { heuristicMaxMs: 86_400_000 });
      const names = varyNames(res.headers);
      if (names !== '*') {
        expect(typeof variantKey('k', names, reqHeaders)).toBe('string');
        expect(typeof varyMatches(res, reqHeaders, reqHeaders)).toBe('boolean');
      }
      revalidationHeaders(reqHeaders, res);
      clientNotModified(reqHeaders, res);
    }), RUNS);
  });

  it('a directive named like an Object.prototype member is just an unknown directive', () => {
    for (const name of PROTO) {
      const cc = parseCacheControl([['Cache-Control', `${name}, ${name}=5, max-age=60`]]);
      expect(cc.maxAge).toBe(60);
      expect(freshnessLifetime({ status: 200, headers: [['Cache-Control', name]] }, parseCacheControl([['Cache-Control', name]]), { heuristicMaxMs: 1000 }, 0)).toBe(0);
    }
  });
});

describe('targets and addresses', () => {
  it('request targets, authorities, Host checks and the SSRF canonicaliser never throw', () => {
    const target = fc.oneof(fc.string({ maxLength: 80 }), fc.webUrl(), protoName,
      fc.tuple(fc.constantFrom('http://', 'https://', 'ftp://', '//', ''), fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((v) => `[${v}]`), protoName, fc.string({ maxLength: 20 })),
        fc.constantFrom('', ':80', ':0', ':65536', ':-1', ':99999999999', ':__proto__'), fc.string({ maxLength: 20 })).map((p) => p.join('')));
    fc.assert(fc.property(target, fc.option(fc.string({ maxLength: 30 }), { nil: undefined }), (t, host) => {
      const r = plainTarget(t);
      expect(['proxy', 'local', 'invalid']).toContain(r.kind);
      const a = parseAuthority(t);
      if (a) {
        expect(a.port).toBeGreaterThanOrEqual(1);
        expect(a.port).toBeLessThanOrEqual(65535);
        expect(typeof hostMatchesTunnel(host, a, host)).toBe('boolean');
      }
      canonicalHost(t);
    }), RUNS);
  });
});

describe('policy logic', () => {
  const policy = policyFrom(`
groups:
  staff: { clients: [10.0.0.0/24], users: [alice] }
rules:
  - { id: lunch, action: block, category: [social], time: weekdays 09:00-17:00 }
  - { id: ads, action: block, category: [ads] }
  - { id: staff-files, action: allow, host: "*.files.example", group: staff }
  - { id: uploads, action: block, method: [POST, PUT], path: /upload/** }
`, { ads: 'ads.example\n', social: 'social.example\n' });

  it('decide never throws on hostile hosts, users, paths and methods', () => {
    fc.assert(fc.property(fc.oneof(fc.domain(), protoName, fc.string({ maxLength: 30 })), fc.option(fc.oneof(protoName, fc.string()), { nil: undefined }),
      fc.oneof(protoName, fc.string({ maxLength: 30 })), fc.integer({ min: 0, max: 2 ** 42 }), (host, user, path, at) => {
        const d = decide({ ...req('http://x.example/'), host, path, method: path, at, ...(user !== undefined ? { user } : {}) }, policy);
        expect(['allow', 'block', 'kill']).toContain(d.action);
      }), RUNS);
    expect(decide(req('http://ads.example/', { at: WED_10_UTC }), policy).action).toBe('block');
  });

  it('time windows: a day spec named like a prototype member is an error, not a window', () => {
    for (const name of PROTO) expect(() => parseTimeWindow(`${name} 09:00-17:00`)).toThrow(/bad time window/);
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 30 }), protoName.map((p) => `${p} 09:00-17:00`)), (text) => {
      try {
        const w = parseTimeWindow(text);
        expect(Number.isInteger(w.days)).toBe(true);
        expect(w.days).toBeGreaterThanOrEqual(0);
        expect(w.days).toBeLessThanOrEqual(127);
      } catch (err) {
        expect((err as Error).message).toMatch(/bad time window/);
      }
    }), RUNS);
  });

  it('list and rules files: garbage is parsed or refused with an Error naming the file, never a crash', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.string({ maxLength: 40 }), protoName, fc.domain(), fc.constant('0.0.0.0 __proto__')), { maxLength: 10 }), (lines) => {
      const text = lines.join('\n');
      try { parseList(text, 'lists/x.txt'); } catch (err) { expect((err as Error).message).toContain('lists/x.txt'); }
      try { parseRulesFile(text, 'rules/x.yaml'); } catch (err) { expect((err as Error).message).toContain('rules/x.yaml'); }
    }), { numRuns: 200, seed: 9 });
  });
});
