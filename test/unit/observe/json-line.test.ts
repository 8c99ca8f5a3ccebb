import { describe, expect, it } from 'vitest';
import { isoTime } from '../../../src/core/iso-time.js';
import { flowJson } from '../../../src/observe/access-log/json-line.js';
import { record } from './records.js';

const full = record({
  user: 'alice', status: 502, error: { code: 'UPSTREAM_RESET', message: 'connect ECONNREFUSED 127.0.0.1:1' },
  timings: { dns: 1.25, connect: 2, tls: 3.5, firstByte: 10, total: 20.75 },
  notes: {
    policy: { action: 'block', rule: 'r1', explain: 'matched', source: 'rules.yaml:3', category: 'ads', list: 'ads.txt:9', reportOnly: true, profile: 'strict' },
    cache: 'miss', bypassCache: true, anonymized: ['user-agent', 'referer'], route: 'api', pool: 'app', backend: 'b1', attempts: 2,
    pick: 'p2c: b1 active=3 < b3 active=7', intercepted: true, tunnel: 't1', upstream: 'example.test:443', requestId: 'rid-1', worker: 4242,
    rateLimit: 'local', realIp: '203.0.113.9', source: 'upstream', close: 'client closed', sni: 'example.test',
  },
  requestHeaders: [['host', 'example.test'], ['authorization', '[REDACTED]']], responseHeaders: [['set-cookie', '[REDACTED]']],
  requestBody: 'a=1', responseBody: '{"ok":true}',
});

describe('the hand-built JSON access-log line', () => {
  it.each([
    ['a typical proxied flow', record()],
    ['every field and note set', full],
    ['a quote, a backslash and a newline in values', record({ url: 'http://example.test/?q=a\\b"c', notes: { pick: 'x\ny', source: 'local' } })],
    ['a lone surrogate and a control character', record({ user: 'bad\ud800', error: { code: 'CLIENT_ABORTED', message: 'tab\tbell\u0007' } })],
    ['non-finite numbers and empty timings/notes', record({ bytesIn: Number.NaN, timings: {}, notes: {} })],
    ['an L4 record (no version, no status)', { ...record({ mode: 'l4', method: 'TCP', url: 'tcp://127.0.0.1:9', version: '' }), status: undefined }],
  ])('%s parses to exactly what JSON.stringify gives', (_name, r) => {
    const line = flowJson(r);
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('never lets a value break out of its string (log injection)', () => {
    const r = record({ url: 'http://example.test/"},"status":999,"x":"', notes: { source: 'local' } });
    const parsed = JSON.parse(flowJson(r)) as { status: number; url: string };
    expect(parsed.status).toBe(200);
    expect(parsed.url).toBe(r.url);
  });
});

describe('isoTime', () => {
  it.each([0, -1, 951_782_400_000, 1_717_590_600_020, 253_402_300_799_999, -30_610_224_000_000])('%d as toISOString writes it', (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
  it('hands years outside 1000-9999 to toISOString (and throws as it does for NaN)', () => {
    expect(isoTime(253_402_300_800_000)).toBe('+010000-01-01T00:00:00.000Z');
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
  it('agrees with toISOString over random instants', () => {
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(((i * 2_654_435_761) % 1_000_003) * 2.5e8) - 1e13;
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
