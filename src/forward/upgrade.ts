import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { ProxyError, toProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import type { Pipeline } from '../core/pipeline.js';
import type { Clock } from '../core/clock.js';
import type { AccessCheck, TunnelDialer } from './ports.js';
import { plainTarget, tunnelTarget, urlHost, urlPort } from './target.js';
import { tunnelOf } from './tunnel-info.js';
import { refuseUpgrade, spliceUpgrade, upgradeFlow, upgradeRequestHead } from './upgrade-tunnel.js';

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
  const flow = upgradeFlow(req, target.kind === 'proxy' ? target.url : new URL('http://invalid.invalid/'), 'forward', deps, tunnel?.client);
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
  upstream.write(upgradeRequestHead(req.method ?? 'GET', target.url, flow.request.headers, deps.viaToken));
  if (head.length > 0) upstream.write(head);
  spliceUpgrade(socket, upstream, flow, deps);
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

function fail(socket: Socket, flow: Flow, error: ProxyError, deps: UpgradeDeps): void {
  const extra = error.code === 'PROXY_AUTH_REQUIRED' ? [`Proxy-Authenticate: ${deps.access.challenge}`] : [];
  refuseUpgrade(socket, flow, error, deps.pipeline, extra);
}
