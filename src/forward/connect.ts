import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { ProxyError, toProxyError } from '../core/errors.js';
import type { EventBus, ProxyEvent } from '../core/events.js';
import type { Notes } from '../core/flow.js';
import { clientAddress } from './client-address.js';
import type { AccessCheck, TargetCheck, TunnelDialer } from './ports.js';
import { rawErrorReply } from './raw-reply.js';
import { splice } from './splice.js';
import { formatAuthority, parseAuthority, type Authority } from './target.js';
import type { TunnelInfo } from './tunnel-info.js';

export interface ConnectDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly bus: EventBus;
  readonly nextId: () => string;
  readonly access: AccessCheck;
  readonly guard: TargetCheck;
  readonly dial: TunnelDialer;
  readonly connectPorts: ReadonlySet<number>;
  readonly idleTimeoutMs: number;
  /** True when this host must be intercepted (MITM on and not in the bypass list). */
  readonly shouldIntercept: (host: string) => boolean;
  readonly intercept: (socket: Socket, head: Buffer, info: TunnelInfo) => void;
  readonly tunnels: Set<Socket>;
  /** The content policy's say on the CONNECT (only host and port are known here); absent = no policy. */
  readonly policy?: ConnectPolicy;
  /** Takes a tunnel slot for the client until the socket closes; false: refused (503 already written). */
  readonly admitTunnel?: (ip: string, socket: Socket) => boolean;
}

/**
 * `block`: the reason, when the policy refuses the host; `noMitm`: tunnel blind even when intercepting; `note`: a
 * block decision (enforced or report-only) as it goes on a blind tunnel's `tunnel.end`, where it is logged and counted.
 */
export interface ConnectPolicy {
  checkConnect(target: Authority, client: { ip: string; user?: string }): { block?: string; noMitm: boolean; note?: Notes['policy'] };
}

/**
 * CONNECT: authorise the client, check the port and the target, then either intercept (MITM) or dial the target
 * FIRST and answer 200 only once it is connected — or a 502/504 naming the failure (unlike http-mitm-proxy, which
 * answers 200 before dialling).
 */
export function createConnectHandler(deps: ConnectDeps): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    handleConnect(req, socket, head, deps).catch((err: unknown) => {
      deps.log.error({ err }, 'CONNECT handling failed');
      socket.destroy();
    });
  };
}

async function handleConnect(req: IncomingMessage, socket: Socket, head: Buffer, deps: ConnectDeps): Promise<void> {
  const id = deps.nextId();
  const client = clientAddress(socket);
  const target = parseAuthority(req.url ?? '');
  if (!target) {
    return refuse(socket, new ProxyError('BAD_REQUEST', `invalid CONNECT target "${(req.url ?? '').slice(0, 100)}"`), id, deps, client, req.url ?? '');
  }
  const access = await deps.access.check(client.ip, req.headers['proxy-authorization']);
  if (!access.ok) {
    const extra = access.code === 'PROXY_AUTH_REQUIRED' ? [`Proxy-Authenticate: ${deps.access.challenge}`] : [];
    const message = access.code === 'PROXY_AUTH_REQUIRED' ? 'proxy authentication required' : `client ${client.ip} is not allowed`;
    return refuse(socket, new ProxyError(access.code, message), id, deps, client, req.url ?? '', extra);
  }
  const refusal = checkTarget(target, deps);
  if (refusal) return refuse(socket, refusal, id, deps, client, formatAuthority(target.host, target.port));
  if (deps.admitTunnel && !deps.admitTunnel(client.ip, socket)) return;
  const info: TunnelInfo = { id, target, client, secure: true, ...(access.user !== undefined ? { user: access.user } : {}) };
  const policy = deps.policy?.checkConnect(target, { ip: client.ip, ...(access.user !== undefined ? { user: access.user } : {}) });
  const intercept = deps.shouldIntercept(target.host) && !policy?.noMitm;
  // Intercepted tunnels are decided per request, where the block page can be shown; blind ones only here.
  if (policy?.block !== undefined && !intercept) {
    return refuse(socket, new ProxyError('POLICY_BLOCKED', policy.block), id, deps, client, formatAuthority(target.host, target.port), [], policy.note);
  }
  if (intercept) {
    deps.intercept(socket, head, info); // its requests are decided (and noted) one by one
    return;
  }
  await blindTunnel(socket, head, info, deps, policy?.note);
}

function checkTarget(target: Authority, deps: ConnectDeps): ProxyError | undefined {
  if (!deps.connectPorts.has(target.port)) {
    return new ProxyError('FORBIDDEN_PORT', `CONNECT to port ${target.port} is not allowed (allowed: ${[...deps.connectPorts].join(', ')})`);
  }
  const guard = deps.guard.checkHost(target.host, target.port);
  return guard.ok ? undefined : new ProxyError('FORBIDDEN_TARGET', guard.reason);
}

async function blindTunnel(socket: Socket, head: Buffer, info: TunnelInfo, deps: ConnectDeps, note: Notes['policy']): Promise<void> {
  const started = deps.clock.monotonic();
  const abort = new AbortController();
  const onEarlyClose = (): void => abort.abort();
  socket.once('close', onEarlyClose);
  let upstream: Socket;
  try {
    upstream = await deps.dial(info.target, abort.signal);
  } catch (err) {
    socket.off('close', onEarlyClose);
    const error = toProxyError(err);
    // The dial's own time: a connect timeout's refusal took the whole timeout, not 0 ms.
    const tried = { ...NOTHING_CARRIED, durationMs: Math.round(deps.clock.monotonic() - started) };
    return refuse(socket, error, info.id, deps, info.client, formatAuthority(info.target.host, info.target.port), [], note, tried);
  }
  socket.off('close', onEarlyClose);
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  splice(socket, upstream, { idleTimeoutMs: deps.idleTimeoutMs, live: deps.tunnels },
    (end) => emitTunnelEnd(deps, info, end.bytesUp, end.bytesDown, started, false, end.error, note));
}

export function emitTunnelEnd(
  deps: Pick<ConnectDeps, 'bus' | 'clock'>, info: TunnelInfo, bytesIn: number, bytesOut: number,
  started: number, intercepted: boolean, error?: string, policy?: Notes['policy'],
): void {
  if (deps.bus.idle) return;
  const carried = { bytesIn, bytesOut, intercepted, durationMs: Math.round(deps.clock.monotonic() - started) };
  deps.bus.emit(tunnelEnd(info.id, info.client, formatAuthority(info.target.host, info.target.port), carried, error, policy));
}

/**
 * A refused CONNECT still ends in one tunnel.end (the access log and metrics count it), of a tunnel that carried
 * nothing; `carried` gives a failed dial's duration.
 */
function refuse(
  socket: Socket, error: ProxyError, id: string, deps: ConnectDeps, client: { ip: string; port: number },
  target: string, extraHeaders: string[] = [], policy?: Notes['policy'], carried: Carried = NOTHING_CARRIED,
): void {
  rawErrorReply(socket, error, id, extraHeaders);
  deps.log.debug({ id, client: client.ip, target, code: error.code }, 'CONNECT refused');
  if (deps.bus.idle) return;
  deps.bus.emit(tunnelEnd(id, client, target, carried, `${error.code}: ${error.message}`, policy));
}

type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;
type Carried = Pick<TunnelEnd, 'bytesIn' | 'bytesOut' | 'intercepted' | 'durationMs'>;

const NOTHING_CARRIED: Carried = { bytesIn: 0, bytesOut: 0, intercepted: false, durationMs: 0 };

/**
 * The one place that knows a tunnel.end's shape: the client as ip:port, the target as given (a refusal's may be the
 * raw CONNECT target), and error and policy left out, not undefined, when there are none.
 */
function tunnelEnd(
  id: string, client: { ip: string; port: number }, target: string, carried: Carried, error: string | undefined, policy: Notes['policy'],
): TunnelEnd {
  return {
    type: 'tunnel.end', id, client: `${client.ip}:${client.port}`, target, ...carried,
    ...(error !== undefined ? { error } : {}),
    ...(policy !== undefined ? { policy } : {}),
  };
}
