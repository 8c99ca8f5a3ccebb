import type { Socket } from 'node:net';
import type { Authority } from './target.js';

/** What an intercepted (or plain-over-CONNECT) connection remembers of the CONNECT that opened it. */
export interface TunnelInfo {
  readonly id: string;
  readonly target: Authority;
  readonly client: { readonly ip: string; readonly port: number };
  readonly user?: string;
  readonly secure: boolean;
  /** The SNI name the client sent, when different from the CONNECT host. */
  sni?: string;
}

const TUNNEL = Symbol('portico.tunnel');

type Tagged = Socket & { [TUNNEL]?: TunnelInfo };

export function tagSocket(socket: Socket, info: TunnelInfo): void {
  (socket as Tagged)[TUNNEL] = info;
}

export function tunnelOf(socket: Socket): TunnelInfo | undefined {
  return (socket as Tagged)[TUNNEL];
}
