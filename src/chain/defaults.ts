import type { PlainObject } from '../config/load.js';

/** The host the default chain serves, routed by the forward proxy to the reverse proxy without DNS. */
export const DEMO_HOST = 'app.portico.test';

/**
 * `portico chain` without a file: forward on 127.0.0.1:8080 (cache on, a policy that blocks /admin on the demo host),
 * reverse on 127.0.0.1:8081 serving app.portico.test over three demo backends on free ports, with health checks.
 */
export function defaultChainConfig(): PlainObject {
  return {
    forward: {
      listen: '127.0.0.1:8080',
      cache: { store: 'memory' },
      routes: [{ host: [DEMO_HOST], to: 'reverse' }],
    },
    reverse: {
      listen: '127.0.0.1:8081',
      exposeBackend: true,
      pools: {
        app: {
          backends: ['demo:b1', 'demo:b2', 'demo:b3'],
          balance: 'round-robin',
          health: { path: '/healthz', intervalMs: 1000, timeoutMs: 500, rise: 1, fall: 2 },
        },
      },
      routes: [{ id: 'app', host: DEMO_HOST, pool: 'app' }],
    },
    demoBackends: [{ id: 'b1' }, { id: 'b2' }, { id: 'b3' }],
    rules: {
      rules: [
        { id: 'chain-admin', action: 'block', host: DEMO_HOST, path: ['/admin', '/admin/**'] },
      ],
    },
  };
}

/** The "try this" paragraph printed once everything listens. */
export function tryThis(forwardUrl: string, backendUrl: string | undefined): string {
  const x = `curl -x ${forwardUrl}`;
  const lines = [
    'Try this:',
    `  ${x} http://${DEMO_HOST}/hello            # a demo backend echoes your request; repeat it: X-Backend-Id goes round the pool`,
    `  ${x} -i http://${DEMO_HOST}/cacheable?max-age=60   # twice: the second answer is a cache hit (Cache-Status: portico; hit) no backend sees`,
    `  ${x} -i http://${DEMO_HOST}/admin            # 403 from the policy rule chain-admin, with the request id`,
    `  ${x} -i http://${DEMO_HOST}/fail?status=503  # errors pass through; /slow?ms=2000 waits`,
  ];
  if (backendUrl !== undefined) {
    lines.push(`  curl -X POST '${backendUrl}/_demo/health?state=down'   # health checks take that backend out of the pool (state=up: back)`);
  }
  lines.push('Every hop logs a flow line carrying the same notes.requestId (X-Request-Id); --admin HOST:PORT and --tui show them all.');
  return lines.join('\n');
}
