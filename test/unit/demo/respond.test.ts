import { describe, expect, it } from 'vitest';
import { planDemoResponse, type DemoState } from '../../../src/demo/respond.js';

const state = (): DemoState => ({ id: 'b1', healthy: true, served: 0 });
const get = (target: string, headers: Record<string, string> = {}, s = state()) => planDemoResponse({ method: 'GET', target, headers }, s);
const header = (h: Array<[string, string]>, name: string) => h.find(([k]) => k.toLowerCase() === name)?.[1];

describe('demo backend responses', () => {
  it('echoes its id, the request headers and the request id', () => {
    const p = get('/hello?x=1', { 'x-request-id': 'rid-1', accept: '*/*' });
    expect(p.status).toBe(200);
    expect(header(p.headers, 'x-backend-id')).toBe('b1');
    expect(header(p.headers, 'x-request-id')).toBe('rid-1');
    expect(header(p.headers, 'cache-control')).toBe('no-store');
    const body = JSON.parse(p.body) as { backend: string; url: string; requestId: string; headers: Record<string, string> };
    expect(body).toMatchObject({ backend: 'b1', url: '/hello?x=1', requestId: 'rid-1', headers: { accept: '*/*' } });
  });

  it.each([
    ['/slow?ms=250', 200, 250],
    ['/slow', 200, 1000],
    ['/slow?ms=999999999', 400, 0],
    ['/slow?ms=-1', 400, 0],
    ['/fail?status=503', 503, 0],
    ['/fail', 500, 0],
    ['/fail?status=200', 400, 0],
    ['/fail?status=abc', 400, 0],
  ])('%s → %i after %i ms', (target, status, delayMs) => {
    const p = get(target);
    expect(p.status).toBe(status);
    expect(p.delayMs).toBe(delayMs);
  });

  it('/cacheable sets a public max-age', () => {
    expect(header(get('/cacheable?max-age=30').headers, 'cache-control')).toBe('public, max-age=30');
    expect(header(get('/cacheable').headers, 'cache-control')).toBe('public, max-age=60');
    expect(get('/cacheable?max-age=1e9').status).toBe(400);
  });

  it('/healthz follows the health state, and POST /_demo/health flips it', () => {
    const s = state();
    expect(get('/healthz', {}, s).status).toBe(200);
    expect(planDemoResponse({ method: 'GET', target: '/_demo/health?state=down', headers: {} }, s).status).toBe(405);
    const down = planDemoResponse({ method: 'POST', target: '/_demo/health?state=down', headers: {} }, s);
    expect(down.setHealthy).toBe(false);
    s.healthy = false;
    expect(get('/healthz', {}, s).status).toBe(503);
    expect(planDemoResponse({ method: 'POST', target: '/_demo/health?state=sideways', headers: {} }, s).status).toBe(400);
  });

  it('a strange target gets a 400, never a throw', () => {
    expect(get('http://[bad').status).toBe(400);
  });
});
