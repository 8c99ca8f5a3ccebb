import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyError } from '../core/errors.js';
import type { Flow } from '../core/flow.js';
import { removeHeader } from '../core/headers.js';
import { once } from '../core/once.js';
import { createFlow, exchange, rejectExchange, type ExchangeDeps } from './exchange.js';
import { CA_PAGE_HOST, type LocalResponse, type LocalRoutes } from './local-routes.js';
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
  const endTrack = (): void => deps.track.end(); // made once here, so a request's guard below is its only closure
  return (req, res) => {
    deps.track.begin();
    // A callback, not a promise chain: a memory-cache hit is answered and done within this call, with no promise and
    // no microtask hop per async layer. once() keeps track.end() to one call, whatever fails.
    const end = once(endTrack);
    try {
      handle(req, res, deps, end);
    } catch (err) {
      res.destroy(err instanceof Error ? err : undefined);
      end();
    }
  };
}

function handle(req: IncomingMessage, res: ServerResponse, deps: HttpHandlerDeps, done: () => void): void {
  const tunnel = tunnelOf(req.socket);
  const target = tunnel ? tunnelTarget(req.url ?? '/', tunnel.target, tunnel.secure) : plainTarget(req.url ?? '/');
  if (target.kind === 'local') {
    return settle(serveLocal(req, res, deps.local.self(target.path, req.headers.host, deps.listen), deps), res, done);
  }
  const url = target.kind === 'proxy' ? target.url : new URL('http://invalid.invalid/');
  const flow = createFlow(req, res, url, deps, tunnel);
  if (target.kind === 'invalid') return settle(rejectExchange(flow, res, new ProxyError('BAD_REQUEST', target.reason), deps), res, done);
  // Expect: 100-continue was already answered by node:http; the origin gets the body without the expectation.
  if (req.headers.expect !== undefined) flow.request.headers = removeHeader(flow.request.headers, 'expect');
  const mismatch = tunnel && checkTunnelHost(req, tunnel);
  if (mismatch) return settle(rejectExchange(flow, res, mismatch, deps), res, done);
  // Only the CA page's host can be answered here: its path (two more URL getters) is built for that host alone.
  const host = urlHost(url);
  const ca = host === CA_PAGE_HOST ? deps.local.caPage(host, url.pathname + url.search) : undefined;
  if (ca) return settle(serveLocalFlow(flow, res, ca, deps), res, done);
  exchange(flow, res, deps, done);
}

/** The answers that are not on the hot path stay promises; done once they settle. */
function settle(pending: Promise<void>, res: ServerResponse, done: () => void): void {
  pending.then(done, (err: unknown) => {
    res.destroy(err instanceof Error ? err : undefined);
    done();
  });
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
