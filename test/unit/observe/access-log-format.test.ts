import { describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../../src/core/events.js';
import { formatter } from '../../../src/observe/access-log/format.js';
import { record } from './records.js';

const NOW = Date.parse('2024-06-05T12:30:01.000Z');
const flow = (over: Parameters<typeof record>[0] = {}): ProxyEvent => ({ type: 'flow.end', flow: record(over) });
const tunnel = (error?: string): ProxyEvent => ({
  type: 'tunnel.end', id: 't1', client: '127.0.0.1:40000', target: 'example.test:443', bytesIn: 517, bytesOut: 4096,
  intercepted: false, durationMs: 250, ...(error !== undefined ? { error } : {}),
});

describe('squid format', () => {
  const squid = formatter('squid');
  const fields = (e: ProxyEvent): string[] => (squid(e, NOW) ?? '').split(/\s+/);

  it('writes the native access.log fields for a miss', () => {
    expect(squid(flow(), NOW)).toBe(
      '1717590600.020     20 127.0.0.1 TCP_MISS/200 1234 GET http://example.test/a?q=1 - HIER_DIRECT/example.test -');
  });

  it.each([
    [{ notes: { cache: 'hit' as const, source: 'local' as const } }, 'TCP_HIT/200', 'HIER_NONE/-'],
    [{ notes: { cache: 'revalidated' as const, source: 'upstream' as const, upstream: 'o:80' } }, 'TCP_REFRESH_UNMODIFIED/200', 'HIER_DIRECT/o'],
    [{ status: 403, notes: { source: 'local' as const, policy: { action: 'block' as const, rule: 'r', explain: '' } } }, 'TCP_DENIED/403', 'HIER_NONE/-'],
    [{ status: 407, notes: { source: 'local' as const } }, 'TCP_DENIED/407', 'HIER_NONE/-'],
    [{ status: 200, error: { code: 'CLIENT_ABORTED' as const, message: 'x' } }, 'TCP_MISS_ABORTED/200', 'HIER_DIRECT/example.test'],
  ])('code/status and hierarchy %#', (over, code, hier) => {
    const f = fields(flow(over));
    expect(f[3]).toBe(code);
    expect(f[8]).toBe(hier);
  });

  it('a report-only block is not a denial', () => {
    expect(fields(flow({ notes: { policy: { action: 'block', rule: 'r', explain: '', reportOnly: true } } }))[3]).toBe('TCP_MISS/200');
  });

  it('names the user and the captured content type', () => {
    const f = fields(flow({ user: 'alice', responseHeaders: [['content-type', 'text/html; charset=utf-8']] }));
    expect(f[7]).toBe('alice');
    expect(f[9]).toBe('text/html');
  });

  it('logs CONNECT tunnels and refused CONNECTs', () => {
    expect(squid(tunnel(), NOW)).toBe('1717590601.000    250 127.0.0.1 TCP_TUNNEL/200 4096 CONNECT example.test:443 - HIER_DIRECT/example.test -');
    expect(fields(tunnel('FORBIDDEN_PORT: port 25 is not allowed'))[3]).toBe('TCP_DENIED/403');
  });

  it('is IPv6-safe', () => {
    expect(fields(flow({ client: '::1:5000' }))[2]).toBe('::1');
  });
});

describe('combined format', () => {
  const combined = formatter('combined');
  it('writes the Apache/nginx combined line', () => {
    expect(combined(flow({ requestHeaders: [['referer', 'http://r.test/'], ['user-agent', 'curl/8 "x"']] }), NOW)).toBe(
      '127.0.0.1 - - [05/Jun/2024:12:30:00 +0000] "GET http://example.test/a?q=1 HTTP/1.1" 200 1234 "http://r.test/" "curl/8 \\x22x\\x22"');
  });
  it('uses "-" for an empty body and unknown headers, and logs CONNECT', () => {
    expect(combined(flow({ bytesOut: 0, user: 'bob' }), NOW)).toBe(
      '127.0.0.1 - bob [05/Jun/2024:12:30:00 +0000] "GET http://example.test/a?q=1 HTTP/1.1" 200 - "-" "-"');
    expect(combined(tunnel(), NOW)).toBe('127.0.0.1 - - [05/Jun/2024:12:30:00 +0000] "CONNECT example.test:443 HTTP/1.1" 200 4096 "-" "-"');
  });
});

describe('json format', () => {
  const json = formatter('json');
  it('keeps the pino line shape', () => {
    const line = JSON.parse(json(flow(), NOW) ?? '') as { level: number; time: number; msg: string; flow: { id: string } };
    expect(line).toMatchObject({ level: 30, time: NOW, msg: 'flow', flow: { id: 'f1' } });
    const t = JSON.parse(json(tunnel(), NOW) ?? '') as { msg: string; tunnel: { target: string; type?: string } };
    expect(t.msg).toBe('tunnel');
    expect(t.tunnel.target).toBe('example.test:443');
  });
  it('writes no line for other events', () => {
    expect(json({ type: 'config.reload', ok: true }, NOW)).toBeUndefined();
  });
});
