import { describe, expect, it } from 'vitest';
import { compileForwardRoutes } from '../../../src/forward/routes.js';

const routes = compileForwardRoutes([
  { host: ['app.portico.test'], to: { host: '127.0.0.1', port: 8081 } },
  { host: ['*.internal.test', '.lab.test'], to: { host: '::1', port: 9000 } },
]);

describe('forward host routes', () => {
  it.each([
    ['http://app.portico.test/x', '127.0.0.1:8081'],
    ['http://APP.portico.test:8080/x', '127.0.0.1:8081'],
    ['http://app.portico.test./', '127.0.0.1:8081'],
    ['http://a.internal.test/', '[::1]:9000'],
    ['http://lab.test/', '[::1]:9000'],
    ['http://deep.x.lab.test/', '[::1]:9000'],
    ['http://other.test/', undefined],
    ['http://xapp.portico.test/', undefined],
    ['https://app.portico.test/', undefined],
  ])('%s → %s', (url, to) => {
    expect(routes.match(new URL(url))?.to).toBe(to);
  });

  it('first match wins and says which pattern matched', () => {
    const r = compileForwardRoutes([
      { host: ['*.test'], to: { host: '127.0.0.1', port: 1 } },
      { host: ['app.test'], to: { host: '127.0.0.1', port: 2 } },
    ]);
    expect(r.match(new URL('http://app.test/'))).toEqual({ to: '127.0.0.1:1', pattern: '*.test' });
    expect(compileForwardRoutes([]).match(new URL('http://app.test/'))).toBeUndefined();
  });
});
