import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConnLimiter } from '../core/conn-limits.js';
import { REASON_PHRASE, RejectionCounter, rejectionResponse, type Rejection, type RejectReason } from '../core/rejections.js';
import { classifyClientError, screenRequestHead } from '../core/request-screen.js';

/** Every limit of a listening front door (forward and reverse share them; see config server.*). */
export interface FrontDoorLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly maxUrlBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
  readonly maxTunnels?: number;
  readonly maxTunnelsPerClient?: number;
}

/**
 * node:http options of a front door: the strict parser always (never insecureHTTPParser, whatever NODE_OPTIONS
 * says), the head size limit, and timeouts checked often enough to matter (node checks them on a timer, every 30 s
 * by default, which would let a slowloris client hold a connection 30 s past headersTimeoutMs).
 */
export function frontDoorServerOptions(l: FrontDoorLimits): ServerOptions {
  const shortest = Math.min(...[l.headersTimeoutMs, l.requestTimeoutMs].filter((t) => t > 0), 30_000);
  return {
    insecureHTTPParser: false,
    maxHeaderSize: l.maxHeaderBytes,
    requestTimeout: l.requestTimeoutMs,
    headersTimeout: l.headersTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortest / 4))),
  };
}

const FLUSH_BEFORE_DESTROY_MS = 1000;

/**
 * The hardening shell around a node:http server: connection limits (total and per client address) applied as
 * sockets arrive, parse errors answered (400/408/431) and closed, request heads screened (414/431/400) before
 * they become flows, CONNECT tunnel limits, and a counter of every refusal by reason for /metrics.
 */
export class FrontDoor {
  readonly rejections = new RejectionCounter();
  private readonly connections: ConnLimiter;
  private readonly tunnels: ConnLimiter;
  private readonly refused = new WeakSet<Socket>();
  /** Sockets admitted already (by tryAdmit, on a raw handle) and handed to node:http afterwards. */
  private readonly adopted = new WeakSet<Socket>();

  constructor(private readonly limits: FrontDoorLimits, private readonly log: Logger) {
    this.connections = new ConnLimiter({ maxTotal: limits.maxConnections, maxPerClient: limits.maxConnectionsPerClient });
    this.tunnels = new ConnLimiter({
      maxTotal: limits.maxTunnels ?? Number.MAX_SAFE_INTEGER, maxPerClient: limits.maxTunnelsPerClient ?? Number.MAX_SAFE_INTEGER,
    });
  }

  /** Hooks the listening server: counts and limits connections, answers parse errors. */
  attach(server: Server): void {
    // node would answer requests beyond maxHeadersCount with the extra fields silently dropped: let one more in, refuse it.
    server.maxHeadersCount = this.limits.maxHeaderCount + 1;
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    this.answerParseErrors(server);
  }

  /** Only the parse-error answers (400/408/431, counted): for the servers behind intercepted tunnels. */
  answerParseErrors(server: Server): void {
    server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => this.onClientError(err, socket));
  }

  /** Open connections (all clients) and open CONNECT tunnels, for gauges and tests. */
  open(): { connections: number; tunnels: number } {
    return { connections: this.connections.count(), tunnels: this.tunnels.count() };
  }

  /** True when the request was refused (and answered); the caller must then leave it alone. */
  screen(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.refused.has(req.socket)) {
      res.destroy();
      return true;
    }
    const rejection = screenRequestHead({ url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders }, this.limits);
    if (!rejection) return false;
    // Requests pipelined behind this one were parsed already and must not reach the pipeline: refuse the socket.
    this.refused.add(req.socket);
    this.count(rejection.reason, req.socket);
    const body = `${rejection.status} ${REASON_PHRASE[rejection.status]}: ${rejection.reason}\n`;
    res.shouldKeepAlive = false;
    res.writeHead(rejection.status, {
      'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Portico-Rejected': rejection.reason,
      Connection: 'close',
    });
    res.end(body);
    return true;
  }

  /** The same for CONNECT and Upgrade requests, which own their raw socket. */
  screenRaw(req: IncomingMessage, socket: Socket): boolean {
    if (this.refused.has(socket)) {
      socket.destroy();
      return true;
    }
    const rejection = screenRequestHead({ url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders }, this.limits);
    if (!rejection) return false;
    this.refused.add(socket);
    this.answerRaw(socket, rejection);
    return true;
  }

  /**
   * Takes a tunnel slot for this client until the socket closes; false (503 written, socket closing) when the
   * client or the proxy is at its tunnel limit.
   */
  admitTunnel(ip: string, socket: Socket): boolean {
    const admission = this.tunnels.admit(ip);
    if (admission.ok) {
      socket.once('close', () => this.tunnels.release(ip));
      return true;
    }
    this.answerRaw(socket, { status: 503, reason: admission.limit === 'total' ? 'max-tunnels' : 'max-tunnels-per-client' });
    return false;
  }

  /**
   * Admits a connection the express front door took on its raw handle (same limits, same counts); false, with nothing
   * counted, when over a limit: the connection then goes the node:http way, which refuses it with 503.
   */
  tryAdmit(ip: string): boolean {
    return this.connections.admit(ip).ok;
  }

  /** The slot of a connection admitted by tryAdmit that closed without reaching node:http. */
  release(ip: string): void {
    this.connections.release(ip);
  }

  /** A connection admitted by tryAdmit, now a net.Socket handed to node:http: counted once, released when it closes. */
  adopt(socket: Socket, ip: string): void {
    this.adopted.add(socket);
    socket.once('close', () => this.connections.release(ip));
  }

  private onConnection(socket: Socket): void {
    if (this.adopted.has(socket)) return;
    const ip = socket.remoteAddress ?? '';
    const admission = this.connections.admit(ip);
    if (admission.ok) {
      socket.once('close', () => this.connections.release(ip));
      return;
    }
    this.refused.add(socket);
    this.answerRaw(socket, { status: 503, reason: admission.limit === 'total' ? 'max-connections' : 'max-connections-per-client' });
  }

  private onClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
    this.refused.add(socket);
    const rejection = classifyClientError(err.code, err.reason ?? err.message);
    if (!rejection || !socket.writable) {
      if (rejection) this.count(rejection.reason, socket);
      socket.destroy();
      return;
    }
    const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (pending && !pending.writableFinished && pending.req.complete) {
      // The response to an earlier, complete pipelined request owns the socket: answer after it, never inside it.
      pending.once('finish', () => this.answerRaw(socket, rejection));
      pending.once('close', () => { if (!pending.writableFinished) { this.count(rejection.reason, socket); socket.destroy(); } });
      return;
    }
    if (pending?.headersSent) {
      // This request's own body broke after its response started: cut the response (the client sees it truncated).
      this.count(rejection.reason, socket);
      socket.destroy();
      return;
    }
    // Nothing answered yet (or this request's body broke before the answer): 400 now; closing aborts the exchange.
    this.answerRaw(socket, rejection);
  }

  private answerRaw(socket: Socket, rejection: Rejection): void {
    this.count(rejection.reason, socket);
    if (socket.destroyed) return;
    const retry = rejection.status === 503 ? ['Retry-After: 1'] : [];
    socket.end(rejectionResponse(rejection, retry));
    // A client that never reads the answer must not keep the socket: end() waits for the peer, this does not.
    setTimeout(() => socket.destroy(), FLUSH_BEFORE_DESTROY_MS).unref();
  }

  private count(reason: RejectReason, socket: Socket): void {
    this.rejections.count(reason);
    this.log.debug({ reason, client: socket.remoteAddress }, 'request refused at the front door');
  }
}
