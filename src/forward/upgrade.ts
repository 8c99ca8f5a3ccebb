import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { ProxyError, toProxyError } from '../core/errors.js';
import type { Flow, RawHeaders } from '../core/flow.js';
import { fromNodeRaw } from '../core/headers.js';
import type { Pipeline } from '../core/pipeline.js';
import type { Clock } from '../core/clock.js';
import { clientAddress } from './client-address.js';
import type { AccessCheck, TunnelDialer } from './ports.js';
import { rawErrorReply } from './raw-reply.js';
import { splice } from './splice.js';
import { plainTarget, tunnelTarget, urlHost, urlPort } from './target.js';
import { tunnelOf } from './tunnel-info.js';

export interface UpgradeDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly nextId: () => string;
  readonly pipeline: Pipeline;
  readonly access: AccessCheck;
  readonly dial: TunnelDialer;
  readonly tls: Pick<ConnectionOptions, 'secureContext' | 'rejectUnauthorized'>;
  readonly viaToken: string | undefined;
  readonly tunnels: Set<Socket>;
  readonly idleTimeoutMs: number;
}

const DROP = new Set(['proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'trailer']);

/**
 * WebSocket (and any Upgrade) through the proxy as a byte tunnel: dial the origin, replay the request head, then
 * splice the sockets. Subprotocols and extensions pass untouched (http-mitm-proxy re-frames messages and drops them).
 */
export function createUpgradeHandler(deps: UpgradeDeps): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(req, socket, head, deps).catch((err: unknown) => {
      deps.log.error({ err }, 'upgrade handling failed');
      socket.destroy();
    });
  };
}

async function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, deps: UpgradeDeps): Promise<void> {
  const tunnel = tunnelOf(socket);
  const target = tunnel ? tunnelTarget(req.url ?? '/', tunnel.target, tunnel.secure) : plainTarget(req.url ?? '/');
  const flow = newFlow(req, target.kind === 'proxy' ? target.url : new URL('http://invalid.invalid/'), deps, tunnel?.client);
  if (target.kind !== 'proxy') return fail(socket, flow, new ProxyError('BAD_REQUEST', 'invalid upgrade request target'), deps);
  if (!tunnel) {
    const access = await deps.access.check(flow.client.ip, req.headers['proxy-authorization']);
    if (!access.ok) return fail(socket, flow, new ProxyError(access.code, 'upgrade refused'), deps);
  }
  let upstream: Socket;
  try {
    upstream = await dialOrigin(target.url, deps, flow.signal);
  } catch (err) {
    return fail(socket, flow, toProxyError(err), deps);
  }
  upstream.write(requestHead(req, target.url, deps.viaToken));
  if (head.length > 0) upstream.write(head);
  recordStatus(upstream, flow, deps.clock);
  splice(socket, upstream, { idleTimeoutMs: deps.idleTimeoutMs, live: deps.tunnels }, (end) => {
    flow.bytesIn = end.bytesUp;
    flow.bytesOut = end.bytesDown;
    const code = end.error?.startsWith('upstream') ? 'UPSTREAM_RESET' : 'CLIENT_ABORTED';
    deps.pipeline.complete(flow, end.error === undefined ? undefined : new ProxyError(code, end.error));
  });
}

async function dialOrigin(url: URL, deps: UpgradeDeps, signal: AbortSignal): Promise<Socket> {
  const host = urlHost(url);
  const raw = await deps.dial({ host, port: urlPort(url) }, signal);
  if (url.protocol !== 'https:') return raw;
  return await new Promise<Socket>((resolve, reject) => {
    const secure = tlsConnect({ socket: raw, servername: host, ALPNProtocols: ['http/1.1'], ...deps.tls });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', (err) => reject(new ProxyError('UPSTREAM_TLS', err.message, { cause: err })));
  });
}

function requestHead(req: IncomingMessage, url: URL, via: string | undefined): string {
  const headers: RawHeaders = fromNodeRaw(req.rawHeaders).filter(([k]) => !DROP.has(k.toLowerCase()));
  if (via) headers.push(['Via', `1.1 ${via}`]);
  const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function recordStatus(upstream: Socket, flow: Flow, clock: Clock): void {
  upstream.once('data', (chunk: Buffer) => {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
    flow.response = { status: m ? Number(m[1]) : 502, headers: [] };
    flow.timings.firstByte = clock.monotonic();
  });
}

function newFlow(req: IncomingMessage, url: URL, deps: UpgradeDeps, client?: { ip: string; port: number }): Flow {
  return {
    id: deps.nextId(), mode: 'forward', signal: new AbortController().signal,
    client: client ? { ...client } : clientAddress(req.socket), startedAt: deps.clock.now(),
    request: { method: req.method ?? 'GET', url, version: '1.1', headers: fromNodeRaw(req.rawHeaders) },
    requestBody: null, notes: {}, timings: { start: deps.clock.monotonic() }, bytesIn: 0, bytesOut: 0,
  };
}

function fail(socket: Socket, flow: Flow, error: ProxyError, deps: UpgradeDeps): void {
  flow.error = error;
  flow.response = { status: error.status, headers: [] };
  const extra = error.code === 'PROXY_AUTH_REQUIRED' ? [`Proxy-Authenticate: Basic realm="${deps.access.realm}"`] : [];
  rawErrorReply(socket, error, flow.id, extra);
  deps.pipeline.complete(flow);
}
