import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/clock.js';
import type { RawHeaders } from '../../../src/core/flow.js';
import { canaryDecision } from '../../../src/reverse/canary.js';
import { decideRoute } from '../../../src/reverse/decide.js';
import { compileRoute, rewritePath, type RouteSpec } from '../../../src/reverse/routes.js';

const specs: RouteSpec[] = [
  { id: 'admin', host: ['admin.example'], pool: 'admin' },
  { id: 'api-v2', host: ['*.example', 'example'], path: '/api', headers: { 'X-Version': '2*' }, pool: 'v2', stripPrefix: true },
  { id: 'api', path: '/api', methods: ['GET', 'HEAD'], pool: 'api', stripPrefix: '/api', setHeaders: { 'X-Route': 'api' } },
  { id: 'beta', cookies: { beta: 'yes' }, pool: 'beta' },
  { id: 'img', pathGlob: '/static/**/*.png', pool: 'static' },
  { id: 'num', pathRegex: '^/items/\\d+$', pool: 'items' },
  { id: 'web', pool: 'web' },
];
const routes = specs.map(compileRoute);

function decide(host: string, path: string, headers: RawHeaders = [], method = 'GET') {
  return decideRoute(routes, { host, path, method, headers, clientIp: '192.0.2.1' }, seededRandom(1));
}

describe('route matching (first match wins)', () => {
  it.each([
    ['admin.example', '/anything', [], 'GET', 'admin', '/anything'],
    ['ADMIN.example', '/', [], 'GET', 'admin', '/'],
    ['www.example', '/api/users', [['X-Version', '2.1']], 'GET', 'v2', '/users'],
    ['example', '/api', [['x-version', '2']], 'GET', 'v2', '/'],
    ['www.example', '/api/users', [['X-Version', '1']], 'GET', 'api', '/users'],
    ['www.example', '/api/users', [], 'POST', 'web', '/api/users'],
    ['www.example', '/apix', [], 'GET', 'web', '/apix'],
    ['www.example', '/x', [['Cookie', 'a=1; beta=yes']], 'GET', 'beta', '/x'],
    ['www.example', '/static/a/b/logo.png', [], 'GET', 'static', '/static/a/b/logo.png'],
    ['www.example', '/items/42', [], 'GET', 'items', '/items/42'],
    ['www.example', '/items/x', [], 'GET', 'web', '/items/x'],
  ] as Array<[string, string, RawHeaders, string, string, string]>)('%s %s %j %s → %s %s', (host, path, headers, method, pool, rewritten) => {
    const d = decide(host, path, headers, method);
    expect(d?.pool).toBe(pool);
    expect(d?.path).toBe(rewritten);
  });

  it('says why', () => {
    expect(decide('www.example', '/api/users', [['X-Version', '2.1']])?.why)
      .toBe('route api-v2: host matches *.example|example, path prefix /api, header X-Version matches 2*');
  });

  it('no route → undefined (the stage answers 404)', () => {
    expect(decideRoute([compileRoute({ id: 'a', host: ['a.example'], pool: 'p' })], { host: 'b.example', path: '/', method: 'GET', headers: [], clientIp: '1.2.3.4' }, seededRandom(1))).toBeUndefined();
  });

  it('a bad regex fails at compile time naming the route', () => {
    expect(() => compileRoute({ id: 'bad', pathRegex: '([', pool: 'p' })).toThrow(/route bad: pathRegex/);
  });

  it.each([['/api/users', '/api', '/users'], ['/api', '/api', '/'], ['/apix', '/api', '/apix'], ['/x', undefined, '/x']])(
    'rewritePath(%s, %s) = %s', (path, strip, out) => expect(rewritePath(path, strip)).toBe(out));
});

describe('canary split', () => {
  const spec = { pool: 'v2', percent: 5, overrideHeader: 'X-Canary' };

  it('sends about the configured share at random (5% ± 0.5 over 100 000)', () => {
    const random = seededRandom(9);
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (canaryDecision(spec, { override: undefined, key: undefined, random }).canary) n++;
    expect(Math.abs(n / 100_000 - 0.05)).toBeLessThan(0.005);
  });

  it('is sticky per key (a user does not flap) and still splits users by the share', () => {
    const random = seededRandom(1);
    let n = 0;
    for (let u = 0; u < 20_000; u++) {
      const first = canaryDecision(spec, { override: undefined, key: `user-${u}`, random }).canary;
      for (let k = 0; k < 3; k++) expect(canaryDecision(spec, { override: undefined, key: `user-${u}`, random }).canary).toBe(first);
      if (first) n++;
    }
    expect(Math.abs(n / 20_000 - 0.05)).toBeLessThan(0.01);
  });

  it('X-Canary: always / never override the split', () => {
    const random = seededRandom(1);
    expect(canaryDecision({ ...spec, percent: 0 }, { override: 'always', key: undefined, random })).toEqual({ canary: true, why: 'X-Canary: always' });
    expect(canaryDecision({ ...spec, percent: 100 }, { override: 'Never', key: undefined, random }).canary).toBe(false);
  });

  it('a route with a canary names the pool it chose', () => {
    const r = [compileRoute({ id: 'shop', pool: 'v1', canary: { pool: 'v2', percent: 0, overrideHeader: 'X-Canary' } })];
    const d = decideRoute(r, { host: 'a', path: '/', method: 'GET', headers: [['x-canary', 'always']], clientIp: '1.1.1.1' }, seededRandom(1));
    expect(d).toMatchObject({ route: 'shop', pool: 'v2', why: 'route shop: matches everything; X-Canary: always' });
  });
});
