import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMON_USER_AGENT } from '../../src/config/schema.js';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { httpsFixture, type HttpsFixture } from '../helpers/https-fixture.js';
import { waitFor, type TestProxy } from '../helpers/proxy.js';

/**
 * Issue 3: what the origin actually receives for an ALLOWED request through intercepted HTTPS, under the strict
 * and standard anonymization profiles (the plain-HTTP side is policy-http.test.ts).
 */

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;
interface Echo { url: string; rawHeaders: string[] }

/** Headers the client sends that say who it is (plus a Via naming an inside host). */
const CLIENT_HEADERS = [
  '-H', 'X-Forwarded-For: 10.9.9.9', '-H', 'Forwarded: for=10.9.9.9', '-H', 'X-Real-IP: 10.9.9.9', '-H', 'From: me@corp.example',
  '-H', 'Via: 1.1 squid.corp.internal', '-H', 'User-Agent: secret-agent/1', '-H', 'Referer: https://elsewhere.example/page',
];

let fx: HttpsFixture;
let strict: TestProxy;
let standard: TestProxy;

beforeAll(async () => {
  // An allow rule for the origin: the request is decided (not the default) and must still be anonymized.
  fx = await httpsFixture({ rules: 'rules:\n  - { id: origin-ok, action: allow, host: localhost }\n' });
  const common = { certs: fx.certs, mitm: { enabled: true } };
  strict = await fx.proxy({ ...common, anonymize: { profile: 'strict' } });
  standard = await fx.proxy(common);
});
afterAll(async () => {
  await fx.close();
});

/** [lowercased name, value] pairs of what the origin received. */
function pairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  return out;
}
const values = (raw: readonly string[], name: string): string[] => pairs(raw).filter(([n]) => n === name).map(([, v]) => v);

async function through(proxy: TestProxy, path: string, headers: string[] = CLIENT_HEADERS): Promise<Echo> {
  const r = await curl(['-x', proxy.url, '--cacert', join(fx.certs, 'ca.pem'), ...headers, `https://localhost:${fx.origin.port}${path}`]);
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as Echo;
}

const flowEnd = (proxy: TestProxy, url: string): Promise<FlowEnd> =>
  waitFor(() => proxy.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === url));

describe('anonymization over intercepted HTTPS (what the origin received)', () => {
  it('strict: tracking parameters stripped from the query, path and other parameters kept', async () => {
    const echo = await through(strict, '/echo/s/page?utm_source=mail&id=7&fbclid=abc&UTM_Medium=x&gclid=g&q=cats');
    expect(echo.url).toBe('/echo/s/page?id=7&q=cats');
    const flow = await flowEnd(strict, `https://localhost:${fx.origin.port}/echo/s/page?id=7&q=cats`);
    expect(flow.flow.notes.intercepted).toBe(true);
    expect(flow.flow.notes.policy).toMatchObject({ action: 'allow', rule: 'origin-ok' });
    expect(flow.flow.notes.anonymized).toEqual(expect.arrayContaining([
      'removed query parameter utm_source', 'removed query parameter fbclid', 'removed query parameter UTM_Medium', 'removed query parameter gclid',
    ]));
  });

  it('strict: no client identity, User-Agent replaced, cross-site Referer dropped, DNT and Sec-GPC added', async () => {
    const echo = await through(strict, '/echo/strict');
    const names = pairs(echo.rawHeaders).map(([n]) => n);
    for (const gone of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'from', 'referer']) expect(names).not.toContain(gone);
    expect(echo.rawHeaders.join('\n')).not.toContain('10.9.9.9');
    expect(echo.rawHeaders.join('\n')).not.toContain('squid.corp.internal');
    expect(values(echo.rawHeaders, 'user-agent')).toEqual([COMMON_USER_AGENT]);
    expect(values(echo.rawHeaders, 'dnt')).toEqual(['1']);
    expect(values(echo.rawHeaders, 'sec-gpc')).toEqual(['1']);
    expect(values(echo.rawHeaders, 'via')).toEqual(['1.1 portico']); // only our own element (loop detection)
    const flow = await flowEnd(strict, `https://localhost:${fx.origin.port}/echo/strict`);
    expect(flow.flow.notes.anonymized).toEqual(expect.arrayContaining([
      'removed X-Forwarded-For', 'removed Forwarded', 'removed X-Real-IP', 'removed From', 'removed Via', 'replaced User-Agent',
      'added DNT: 1', 'added Sec-GPC: 1',
    ]));
  });

  it('strict: a same-site Referer is kept', async () => {
    const referer = `https://localhost:${fx.origin.port}/from`;
    const echo = await through(strict, '/echo/same-site', ['-H', `Referer: ${referer}`]);
    expect(values(echo.rawHeaders, 'referer')).toEqual([referer]);
  });

  it('standard: client identity and inside Via hosts removed; User-Agent, From, Referer and query kept; no DNT', async () => {
    const echo = await through(standard, '/echo/std?utm_source=mail&id=7');
    expect(echo.url).toBe('/echo/std?utm_source=mail&id=7');
    const names = pairs(echo.rawHeaders).map(([n]) => n);
    for (const gone of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'dnt', 'sec-gpc']) expect(names).not.toContain(gone);
    expect(echo.rawHeaders.join('\n')).not.toContain('10.9.9.9');
    expect(echo.rawHeaders.join('\n')).not.toContain('squid.corp.internal');
    expect(values(echo.rawHeaders, 'user-agent')).toEqual(['secret-agent/1']);
    expect(values(echo.rawHeaders, 'from')).toEqual(['me@corp.example']);
    expect(values(echo.rawHeaders, 'referer')).toEqual(['https://elsewhere.example/page']);
    const flow = await flowEnd(standard, `https://localhost:${fx.origin.port}/echo/std?utm_source=mail&id=7`);
    expect(flow.flow.notes.intercepted).toBe(true);
    expect(flow.flow.notes.anonymized).toEqual(expect.arrayContaining(['removed X-Forwarded-For', 'removed Forwarded', 'removed X-Real-IP']));
    expect(flow.flow.notes.anonymized).not.toContain('replaced User-Agent');
  });
});
