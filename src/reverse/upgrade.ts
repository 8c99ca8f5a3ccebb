import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Clock, Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import type { Pipeline } from '../core/pipeline.js';
import { refuseUpgrade, spliceUpgrade, upgradeFlow, upgradeRequestHead } from '../forward/upgrade-tunnel.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendPool } from '../upstream/backend-pool.js';
import { hashKeyOf } from '../upstream/hash-key.js';
import { withForwarding } from './client-headers.js';
import { decideRoute } from './decide.js';
import type { CompiledRoute } from './routes.js';

export interface ReverseUpgradeDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly nextId: () => string;
  readonly pipeline: () => Pipeline;
  readonly pools: () => ReadonlyMap<string, BackendPool>;
  readonly routes: () => readonly CompiledRoute[];
  readonly trusted: (ip: string) => boolean;
  readonly via: () => string | undefined;
  readonly fallbackHost: string;
  readonly tunnels: Set<Socket>;
  readonly idleTimeoutMs: number;
}

/** WebSocket (any Upgrade) to the backend the pool picks for this route, then a byte splice; one flow.end per tunnel. */
export function reverseUpgradeHandler(deps: ReverseUpgradeDeps): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(`http://${req.headers.host ?? deps.fallbackHost}${req.url?.startsWith('/') ? req.url : '/'}`);
    const flow = upgradeFlow(req, url, 'reverse', deps);
    const pipeline = deps.pipeline();
    const fail = (error: ProxyError): void => refuseUpgrade(socket, flow, error, pipeline);
    const d = decideRoute(deps.routes(), { host: url.hostname, path: url.pathname, method: flow.request.method,
      headers: flow.request.headers, clientIp: flow.client.ip }, deps.random);
    const pool = d === undefined ? undefined : deps.pools().get(d.pool);
    if (d === undefined || pool === undefined) return fail(new ProxyError('BAD_REQUEST', `no route for ${url.host}${url.pathname}`));
    Object.assign(flow.notes, { route: d.route, pool: d.pool });
    url.pathname = d.path;
    const now = deps.clock.monotonic();
    pool.refresh(now);
    let reason = '';
    const hashKey = hashKeyOf(flow, pool.config.balance.hashOn);
    const backend = pool.pick({ random: deps.random, explain: (r) => { reason = r; }, ...(hashKey === undefined ? {} : { hashKey }) }, undefined).backend;
    if (backend === undefined || pool.health.allDown(now)) return fail(pool.noneHealthy(now));
    Object.assign(flow.notes, { backend: backend.id, upstream: backend.id, attempts: 1, pick: reason });
    connectBackend(backend, pool, flow, { req, socket, head, pipeline }, deps, fail);
  };
}

interface Client { readonly req: IncomingMessage; readonly socket: Socket; readonly head: Buffer; readonly pipeline: Pipeline }

function connectBackend(b: Backend, pool: BackendPool, flow: Flow, client: Client, deps: ReverseUpgradeDeps,
  fail: (e: ProxyError) => void): void {
  const { req, socket, head, pipeline } = client;
  const upstream = net.connect({ host: b.host, port: b.port, timeout: b.options.connectTimeoutMs });
  const onError = (err: NodeJS.ErrnoException): void => {
    upstream.destroy();
    pool.passive(b, true, deps.clock.monotonic(), err.code ?? 'connect failed');
    fail(new ProxyError(err.code === 'ETIMEDOUT' ? 'CONNECT_TIMEOUT' : 'CONNECT_REFUSED', `backend ${b.id}: ${err.code ?? err.message}`));
  };
  upstream.once('error', onError);
  upstream.once('timeout', () => onError(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
  upstream.once('connect', () => {
    upstream.off('error', onError);
    upstream.setTimeout(0);
    b.active++;
    upstream.write(requestHead(req, flow, deps));
    if (head.length > 0) upstream.write(head);
    spliceUpgrade(socket, upstream, flow, { ...deps, pipeline }, () => { b.active--; });
  });
}

function requestHead(req: IncomingMessage, flow: Flow, deps: ReverseUpgradeDeps): string {
  const url = flow.request.url;
  const headers = withForwarding(flow.request.headers, { ip: flow.client.ip, proto: 'http', host: url.host }, deps.trusted(flow.client.ip));
  return upgradeRequestHead(req.method ?? 'GET', url, headers, deps.via());
}
