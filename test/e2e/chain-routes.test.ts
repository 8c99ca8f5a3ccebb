import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import type { ProxyEvent } from '../../src/core/events.js';
import { startDemoBackend, type DemoBackend } from '../../src/demo/backend.js';
import { startForward, type ForwardProxy } from '../../src/forward/server.js';
import { waitFor } from '../helpers/proxy.js';
import { curl } from '../helpers/curl.js';

let backend: DemoBackend;
let proxy: ForwardProxy;
const events: ProxyEvent[] = [];

beforeAll(async () => {
  backend = await startDemoBackend({ id: 'routed', host: '127.0.0.1', port: 0 });
  // No targets.allow: loopback stays refused by the SSRF guard, except through the configured route.
  const config = validateConfig(forwardConfigSchema, {
    listen: '127.0.0.1:0', cache: false, policy: { rules: '/nonexistent-portico-rules' },
    routes: [{ host: ['app.portico.test', '*.lab.test'], to: backend.address }],
  }, 'test');
  proxy = await startForward(config, { log: pino({ level: 'silent' }) });
  proxy.bus.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await proxy.close(0);
  await backend.close();
});

describe('forward host routes (no DNS)', () => {
  it('sends a routed host to its address with Host kept, and adds X-Request-Id', async () => {
    const r = await curl(['-x', proxy.url, 'http://app.portico.test/hello']);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { backend: string; requestId: string; headers: Record<string, string> };
    expect(body.backend).toBe('routed');
    expect(body.headers.host).toBe('app.portico.test');
    const flow = await waitFor(() => events.find((e): e is Extract<ProxyEvent, { type: 'flow.end' }> => e.type === 'flow.end'));
    expect(body.requestId).toBe(flow.flow.id);
    expect(flow.flow.notes).toMatchObject({ requestId: flow.flow.id, upstream: backend.address });
  });

  it('keeps a request id the client sent, and matches host globs', async () => {
    const r = await curl(['-x', proxy.url, '-H', 'X-Request-Id: from-client-7', 'http://x.lab.test/']);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { requestId: string }).requestId).toBe('from-client-7');
  });

  it('a request for the same address without a route is still refused by the SSRF guard', async () => {
    const r = await curl(['-x', proxy.url, `http://${backend.address}/`]);
    expect(r.status).toBe(403);
    expect(r.headers).toMatch(/X-Portico-Error: FORBIDDEN_TARGET/i);
    expect(backend.served()).toBe(2);
  });
});
