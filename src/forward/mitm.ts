import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { emitTunnelEnd } from './connect.js';
import type { ContextSource } from './ports.js';
import { rawErrorReply } from './raw-reply.js';
import { ProxyError } from '../core/errors.js';
import { tagSocket, type TunnelInfo } from './tunnel-info.js';

export interface MitmDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly bus: EventBus;
  readonly certificates: ContextSource;
  /** Internal (non-listening) HTTP servers fed with decrypted / plain tunnel connections. */
  readonly tlsServer: Server;
  readonly plainServer: Server;
  readonly handshakeTimeoutMs: number;
  readonly tunnels: Set<Socket>;
}

const TLS_HANDSHAKE = 0x16;

/**
 * Terminates TLS inside a CONNECT tunnel with a leaf for the SNI name (or the CONNECT host) and hands the decrypted
 * socket to one internal HTTP server: one TLS path for every host, no listening socket per host (the
 * http-mitm-proxy #148 port exhaustion), no extra loopback hop. Only http/1.1 is offered by ALPN.
 */
export function createInterceptor(deps: MitmDeps): (socket: Socket, head: Buffer, info: TunnelInfo) => void {
  return (socket, head, info) => {
    const started = deps.clock.monotonic();
    deps.tunnels.add(socket);
    socket.once('close', () => deps.tunnels.delete(socket));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const timer = setTimeout(() => socket.destroy(), deps.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (first === null) return; // closed before any byte
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        startTls(socket, info, started, timer, deps).catch((err: unknown) => {
          deps.log.warn({ err, id: info.id, host: info.target.host }, 'cannot issue a certificate');
          socket.destroy();
        });
      } else {
        clearTimeout(timer);
        // Plain HTTP over CONNECT (e.g. ws:// through a proxy): parsed by the plain internal server.
        tagSocket(socket, { ...info, secure: false });
        socket.once('close', () => emitTunnelEnd(deps, info, socket.bytesRead, socket.bytesWritten, started, true));
        deps.plainServer.emit('connection', socket);
      }
    });
  };
}

async function startTls(socket: Socket, info: TunnelInfo, started: number, timer: NodeJS.Timeout, deps: MitmDeps): Promise<void> {
  const context: SecureContext = await deps.certificates.secureContext(info.target.host);
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    ALPNProtocols: ['http/1.1'],
    SNICallback: (name, cb) => {
      const sni = name.toLowerCase();
      if (sni !== info.target.host) info.sni = sni;
      deps.certificates.secureContext(sni).then((ctx) => cb(null, ctx), (err: Error) => cb(err, undefined));
    },
  });
  let error: string | undefined;
  tlsSocket.on('error', (err) => {
    error ??= `tls: ${err.message}`;
    deps.log.debug({ id: info.id, host: info.target.host, err: err.message }, 'intercepted TLS connection failed');
    socket.destroy();
  });
  tlsSocket.once('secure', () => {
    clearTimeout(timer);
    tagSocket(tlsSocket, info);
    deps.tlsServer.emit('connection', tlsSocket);
  });
  tlsSocket.once('close', () => emitTunnelEnd(deps, info, socket.bytesRead, socket.bytesWritten, started, true, error));
}

/** Used when interception cannot even start (no CA): refuse the CONNECT clearly instead of hanging. */
export function refuseIntercept(socket: Socket, info: TunnelInfo, reason: string): void {
  rawErrorReply(socket, new ProxyError('INTERNAL', reason), info.id);
}
