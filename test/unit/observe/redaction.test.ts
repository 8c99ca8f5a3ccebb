import { describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/core/flow.js';
import { recordOptions } from '../../../src/core/record-headers.js';
import { formatter } from '../../../src/observe/access-log/format.js';
import { toHar } from '../../../src/observe/har.js';
import { makeFlow } from '../../helpers/make-flow.js';

const SECRETS = ['Basic czNjcjN0OnB3', 'Bearer tok-123', 'session=abc-secret', 'sid=set-secret', 'p4ssw0rd', 'x-custom-secret'];

function secretFlow() {
  const flow = makeFlow({
    url: 'http://user:p4ssw0rd@example.test/path',
    headers: [
      ['Host', 'example.test'], ['AUTHORIZATION', 'Bearer tok-123'], ['Proxy-Authorization', 'Basic czNjcjN0OnB3'],
      ['cookie', 'session=abc-secret'], ['X-Api-Key', 'x-custom-secret'], ['User-Agent', 'curl/8'],
    ],
  });
  flow.response = { status: 200, headers: [['Set-Cookie', 'sid=set-secret'], ['Content-Type', 'text/plain']] };
  return flow;
}

describe('redaction', () => {
  const opts = recordOptions({ headers: true, redactHeaders: ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'X-API-Key'] });

  it('lower-cases names and replaces the configured fields in captured headers', () => {
    const r = toRecord(secretFlow(), opts);
    expect(r.requestHeaders).toContainEqual(['authorization', '[REDACTED]']);
    expect(r.requestHeaders).toContainEqual(['x-api-key', '[REDACTED]']);
    expect(r.requestHeaders).toContainEqual(['user-agent', 'curl/8']);
    expect(r.responseHeaders).toContainEqual(['set-cookie', '[REDACTED]']);
    expect(r.url).toBe('http://user:%5BREDACTED%5D@example.test/path');
  });

  it('no secret appears in any output format (json, squid, combined, HAR)', () => {
    const r = toRecord(secretFlow(), opts);
    const outputs = [
      ...(['json', 'squid', 'combined'] as const).map((f) => formatter(f)({ type: 'flow.end', flow: r }, 0) ?? ''),
      JSON.stringify(toHar([r], '0.0.0')),
      JSON.stringify(r),
    ];
    for (const out of outputs) {
      expect(out.length).toBeGreaterThan(0);
      for (const secret of SECRETS) expect(out).not.toContain(secret);
    }
  });

  it('captures no headers unless asked (disabled means free)', () => {
    const r = toRecord(secretFlow());
    expect(r.requestHeaders).toBeUndefined();
    expect(r.responseHeaders).toBeUndefined();
  });
});
