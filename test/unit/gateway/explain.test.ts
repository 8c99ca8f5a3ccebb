import { describe, expect, it } from 'vitest';
import { describeAuth, describeRateLimit, redactUrl } from '../../../src/gateway/explain.js';
import { authSchema, rateLimitSchema } from '../../../src/gateway/schema.js';
import { refusalReason, unauthorized } from '../../../src/gateway/unauthorized.js';

describe('gateway explainers (portico route test)', () => {
  it('never print a store password', () => {
    expect(redactUrl('redis://u:hunter2@h:6379/1')).toBe('redis://u:***@h:6379/1');
    expect(redactUrl('rediss://:hunter2@h:6379')).toBe('rediss://:***@h:6379');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
  });

  it('describe auth settings', () => {
    expect(describeAuth(authSchema.parse({ type: 'jwt', secret: 'x'.repeat(32), publicKeyFile: 'k.pem', issuer: 'i', audience: ['a', 'b'] })))
      .toBe('jwt HS256/RS256 realm="portico", iss i, aud a|b, exp required, clock skew 30 s, token forwarded');
    expect(describeAuth(authSchema.parse({ type: 'basic', htpasswd: 'users', forwardCredentials: true })))
      .toBe('basic realm="portico", users from users, Authorization passed on to the backend');
  });

  it('describe a rate limit with the bucket a request draws from', () => {
    const flow = { request: { headers: [['X-Api-Key', 'k1']] } } as never;
    expect(describeRateLimit(rateLimitSchema.parse({ ratePerSecond: 2, key: 'header:X-Api-Key' }), '192.0.2.1', flow))
      .toBe('2/s burst 2 per header X-Api-Key (else client IP), in memory (per instance); bucket "h:k1"');
  });

  it('read back why a 401 refused', () => {
    expect(refusalReason(unauthorized('Basic realm="x"', 'credentials required'))).toBe('credentials required');
    expect(refusalReason({ kind: 'continue' })).toBeUndefined();
  });
});
