import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import { removeHeader } from '../core/headers.js';
import { createFlow, rejectExchange, runExchange, type ExchangeDeps } from './exchange.js';
import type { LocalResponse, LocalRoutes } from './local-routes.js';
import { hostMatchesTunnel, plainTarget, tunnelTarget, urlHost } from './target.js';
import { writeResponse } from './respond.js';
import { tunnelOf, type TunnelInfo } from './tunnel-info.js';

export interface HttpHandlerDeps extends ExchangeDeps {
  readonly local: LocalRoutes;
  /** The listen address as clients write it (host:port), for the PAC file. */
  readonly listen: string;
  /** Client CIDR check for requests the proxy answers itself (PAC, CA page). */
  readonly clientAllowed: (ip: string) => boolean;
  readonly track: { begin(): void; end(): void };
}

/** The 'request' handler shared by the proxy's port and the internal server behind intercepted tunnels. */
export function createRequestHandler(deps: HttpHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const end = (): void => deps.track.end();
  return (req, res) => {
    deps.track.begin();
    // One then() with both arms: catch().finally() built two more promises per request.
    handle(req, res, deps).then(end, (err: unknown) => {
      res.destroy(err instanceof Error ? err : undefined);
      end();
    });
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HttpHandlerDeps): Promise<void> {
  const tunnel = tunnelOf(req.socket);
  const target = tunnel ? tunnelTarget(req.url ?? '/', tunnel.target, tunnel.secure) : plainTarget(req.url ?? '/');
  if (target.kind === 'local') {
    return serveLocal(req, res, deps.local.self(target.path, req.headers.host, deps.listen), deps);
  }
  const url = target.kind === 'proxy' ? target.url : new URL('http://invalid.invalid/');
  const flow = createFlow(req, res, url, deps, tunnel);
  if (target.kind === 'invalid') return rejectExchange(flow, res, new ProxyError('BAD_REQUEST', target.reason), deps);
  // Expect: 100-continue was already answered by node:http; the origin gets the body without the expectation.
  if (req.headers.expect !== undefined) flow.request.headers = removeHeader(flow.request.headers, 'expect');
  const mismatch = tunnel && checkTunnelHost(req, tunnel);
  if (mismatch) return rejectExchange(flow, res, mismatch, deps);
  const ca = deps.local.caPage(urlHost(url), url.pathname + url.search);
  if (ca) return serveLocalFlow(flow, res, ca, deps);
  return runExchange(flow, res, deps);
}

function checkTunnelHost(req: IncomingMessage, tunnel: TunnelInfo): ProxyError | undefined {
  if (hostMatchesTunnel(req.headers.host, tunnel.target, tunnel.sni)) return undefined;
  return new ProxyError('HOST_MISMATCH',
    `Host "${req.headers.host ?? ''}" does not match the tunnel to ${tunnel.target.host}:${tunnel.target.port}`);
}

async function serveLocal(req: IncomingMessage, res: ServerResponse, reply: LocalResponse, deps: HttpHandlerDeps): Promise<void> {
  const url = new URL(`http://${deps.listen}${req.url ?? '/'}`);
  const flow = createFlow(req, res, url, deps);
  await serveLocalFlow(flow, res, reply, deps);
}

async function serveLocalFlow(flow: Flow, res: ServerResponse, reply: LocalResponse, deps: HttpHandlerDeps): Promise<void> {
  if (!deps.clientAllowed(flow.client.ip)) {
    return rejectExchange(flow, res, new ProxyError('FORBIDDEN_CLIENT', `client ${flow.client.ip} is not allowed`), deps);
  }
  flow.notes.source = 'local';
  flow.response = { status: reply.status, headers: reply.headers };
  flow.responseBody = reply.body;
  await writeResponse(res, flow).catch(() => res.destroy());
  deps.pipeline.complete(flow);
}
