import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Clock, Random } from '../core/clock.js';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import type { Pipeline } from '../core/pipeline.js';
import { CONTINUE, type Stage, type StageContext, type Verdict } from '../core/stage.js';
import { refuseUpgrade, spliceUpgrade, upgradeFlow, upgradeRequestHead } from '../forward/upgrade-tunnel.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendPool } from '../upstream/backend-pool.js';
import { hashKeyOf } from '../upstream/hash-key.js';
import { noteRealIp, withForwarding } from './client-headers.js';
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
  /** The current generation's per-route stages: an upgrade passes the same rate limit, auth and policy as a request. */
  readonly routeStages: () => ReadonlyMap<string, readonly Stage[]>;
  readonly ctx: StageContext;
}

/** WebSocket (any Upgrade) to the backend the pool picks for this route, then a byte splice; one flow.end per tunnel. */
export function reverseUpgradeHandler(deps: ReverseUpgradeDeps): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const scheme = (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    const url = new URL(`${scheme}://${req.headers.host ?? deps.fallbackHost}${req.url?.startsWith('/') ? req.url : '/'}`);
    const flow = upgradeFlow(req, url, 'reverse', deps);
    const pipeline = deps.pipeline();
    const fail = (error: ProxyError): void => refuseUpgrade(socket, flow, error, pipeline);
    noteRealIp(flow, deps.trusted); // before routing and the route's stages: canary stickiness and rate limits key on the client behind a trusted proxy
    const d = decideRoute(deps.routes(), { host: url.hostname, path: url.pathname, method: flow.request.method,
      headers: flow.request.headers, clientIp: flow.notes.realIp ?? flow.client.ip }, deps.random);
    const pool = d === undefined ? undefined : deps.pools().get(d.pool);
    if (d === undefined || pool === undefined) return fail(new ProxyError('BAD_REQUEST', `no route for ${url.host}${url.pathname}`));
    Object.assign(flow.notes, { route: d.route, pool: d.pool });
    url.pathname = d.path;
    const admission = admit(flow, deps.routeStages().get(d.route), deps.ctx);
    const proceed = (v: Verdict): void => {
      if (v.kind === 'continue') return pickAndConnect(flow, pool, { req, socket, head, pipeline }, deps, fail);
      refuseLocally(socket, flow, v, pipeline);
    };
    if (admission instanceof Promise) admission.then(proceed, () => fail(new ProxyError('INTERNAL', 'a route stage failed')));
    else proceed(admission);
  };
}

/** The route's request-side stages that apply to an upgrade (the cache does not); first answer wins. */
async function admitAsync(flow: Flow, stages: readonly Stage[], ctx: StageContext, from: number, first: Promise<Verdict>): Promise<Verdict> {
  let v = await first;
  for (let i = from; v.kind === 'continue' && i < stages.length; i++) v = await (stages[i] as Stage).onRequest?.(flow, ctx) ?? CONTINUE;
  return v;
}

function admit(flow: Flow, stages: readonly Stage[] | undefined, ctx: StageContext): Verdict | Promise<Verdict> {
  const list = (stages ?? []).filter((s) => s.name !== 'cache');
  for (let i = 0; i < list.length; i++) {
    const v = (list[i] as Stage).onRequest?.(flow, ctx) ?? CONTINUE;
    if (v instanceof Promise) return admitAsync(flow, list, ctx, i + 1, v);
    if (v.kind !== 'continue') return v;
  }
  return CONTINUE;
}

/** A stage's local answer (401, 429, 403) written on the raw socket, then closed; one flow.end. */
function refuseLocally(socket: Socket, flow: Flow, v: Exclude<Verdict, { kind: 'continue' }>, pipeline: Pipeline): void {
  if (v.kind === 'kill') {
    socket.destroy();
    pipeline.complete(flow);
    return;
  }
  flow.response = v.head;
  flow.notes.source = 'local';
  const body = v.body instanceof Uint8Array ? v.body : new Uint8Array(0);
  const lines = [`HTTP/1.1 ${v.head.status} ${v.head.reason ?? ''}`.trimEnd()];
  for (const [k, val] of v.head.headers) if (!/^(content-length|connection)$/i.test(k)) lines.push(`${k}: ${val}`);
  lines.push(`Content-Length: ${body.length}`, 'Connection: close');
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  pipeline.complete(flow);
}

function pickAndConnect(flow: Flow, pool: BackendPool, client: Client, deps: ReverseUpgradeDeps, fail: (e: ProxyError) => void): void {
    const now = deps.clock.monotonic();
    pool.refresh(now);
    let reason = '';
    const hashKey = hashKeyOf(flow, pool.config.balance.hashOn);
    const backend = pool.pick({ random: deps.random, explain: (r) => { reason = r; }, ...(hashKey === undefined ? {} : { hashKey }) }, undefined).backend;
    if (backend === undefined || pool.health.allDown(now)) return fail(pool.noneHealthy(now));
    Object.assign(flow.notes, { backend: backend.id, upstream: backend.id, attempts: 1, pick: reason });
    connectBackend(backend, pool, flow, client, deps, fail);
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
  const headers = withForwarding(flow.request.headers, { ip: flow.client.ip, proto: url.protocol === 'https:' ? 'https' : 'http', host: url.host }, deps.trusted(flow.client.ip));
  return upgradeRequestHead(req.method ?? 'GET', url, headers, deps.via());
}
