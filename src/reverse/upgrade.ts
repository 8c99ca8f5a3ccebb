import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Clock, Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow, RawHeaders } from '../core/flow.js';
import { fromNodeRaw } from '../core/headers.js';
import type { Pipeline } from '../core/pipeline.js';
import { clientAddress } from '../forward/client-address.js';
import { rawErrorReply } from '../forward/raw-reply.js';
import { splice } from '../forward/splice.js';
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

const DROP = new Set(['keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']);

/** WebSocket (any Upgrade) to the backend the pool picks for this route, then a byte splice; one flow.end per tunnel. */
export function reverseUpgradeHandler(deps: ReverseUpgradeDeps): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(`http://${req.headers.host ?? deps.fallbackHost}${req.url?.startsWith('/') ? req.url : '/'}`);
    const flow: Flow = {
      id: deps.nextId(), mode: 'reverse', signal: new AbortController().signal, client: clientAddress(req.socket),
      startedAt: deps.clock.now(), request: { method: req.method ?? 'GET', url, version: '1.1', headers: fromNodeRaw(req.rawHeaders) },
      requestBody: null, notes: {}, timings: { start: deps.clock.monotonic() }, bytesIn: 0, bytesOut: 0,
    };
    const pipeline = deps.pipeline();
    const fail = (error: ProxyError): void => {
      flow.error = error;
      flow.response = { status: error.status, headers: [] };
      rawErrorReply(socket, error, flow.id);
      pipeline.complete(flow);
    };
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
    upstream.once('data', (chunk: Buffer) => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
      flow.response = { status: m ? Number(m[1]) : 502, headers: [] };
      flow.timings.firstByte = deps.clock.monotonic();
    });
    splice(socket, upstream, { idleTimeoutMs: deps.idleTimeoutMs, live: deps.tunnels }, (end) => {
      b.active--;
      flow.bytesIn = end.bytesUp;
      flow.bytesOut = end.bytesDown;
      const code = end.error?.startsWith('upstream') ? 'UPSTREAM_RESET' : 'CLIENT_ABORTED';
      pipeline.complete(flow, end.error === undefined ? undefined : new ProxyError(code, end.error));
    });
  });
}

function requestHead(req: IncomingMessage, flow: Flow, deps: ReverseUpgradeDeps): string {
  let headers: RawHeaders = flow.request.headers.filter(([k]) => !DROP.has(k.toLowerCase()));
  headers = withForwarding(headers, { ip: flow.client.ip, proto: 'http', host: flow.request.url.host }, deps.trusted(flow.client.ip));
  const via = deps.via();
  if (via !== undefined) headers.push(['Via', `1.1 ${via}`]);
  const url = flow.request.url;
  const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
